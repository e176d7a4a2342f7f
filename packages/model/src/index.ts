/**
 * @rcmnet/model public API (see docs/model.md).
 */
export { loadModel, UNIDENTIFIED, type CellClassifier, type Prediction, type PredictOptions, type ExplainOptions } from './classifier.js';
export { detectCells, detectCellsRgb, cropCells, CROP_CONTEXT, recallAt, iou, type Box, type Detection, type DetectOptions } from './detect.js';
export { train, TrainingCancelled, type TrainOptions, type TrainEvent, type TrainResult, type EpochRecord } from './train.js';
export { calibratedProbabilities, evaluate, type EvaluateOptions, type EvaluateResult, type EvalSplit } from './evaluate.js';
export { synthCells, synthCell, synthField, writeSynthDataset, SYNTH_CLASSES, type SynthClass, type SynthField, type FieldCell } from './synth.js';
export { decodeImage, validateImage, encodePng, resizeSquare, ImageDecodeError, DEFAULT_LIMITS, type RgbImage, type ImageLimits, type ImageInput, type ImageErrorCode } from './image.js';
export { loadDataset, loadBccd, type Dataset, type Sample, type BccdField } from './data.js';
export { trainingCurveSvg, confusionSvg } from './plots.js';
export { initBackend, currentBackend, BACKEND_ORDER } from './backend.js';
export { Network, archConfig, ARCHITECTURES, type ArchName, type ArchConfig } from './architecture.js';
export { loadNetwork, saveModel, readCard, runState, unfinishedWarning, ModelIntegrityError, type ModelCard, type EvalMetrics, type RunState } from './artifact.js';
export { benchBackend, prepareBench, type BenchResult, type PreparedBench } from './bench.js';
export {
  adamUpdate, batchNormTraining, spatialAvgMax, gatedChannelAvgMax, gateApply, ADAM_UPDATE, BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD,
  SPATIAL_AVG_MAX, SPATIAL_AVG_MAX_GRAD, GATED_CHANNEL_AVG_MAX, GATED_CHANNEL_AVG_MAX_GRAD, GATE_APPLY, GATE_APPLY_GRAD, type AdamStep,
} from './fusedOps.js';
export { Optimizer, type OptimizerOptions } from './optimizer.js';
