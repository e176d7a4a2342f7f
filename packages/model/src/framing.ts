// How the platform frames a cell: a square crop centred on the detected box, with side =
// CROP_CONTEXT x the box's longest side. Its own module, free of TensorFlow, so that the API can
// check a model card against it without loading a backend (@rcmnet/model/framing).

/** Crop framing of the platform: side = CROP_CONTEXT x the cell box's longest side. */
export const CROP_CONTEXT = 1.3;
