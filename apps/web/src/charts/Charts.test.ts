import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { historyNotes, historySeries, LineChart } from "./Charts";

const history = [1, 2, 3].map((epoch) => ({ epoch, trainLoss: 1 / epoch, valLoss: 1.2 / epoch, trainAccuracy: 0.3 * epoch, valAccuracy: 0.25 * epoch }));

describe("training curves", () => {
  it("names curves measured on the training images in-sample, not val", () => {
    const h = historySeries(history, { valIsTrain: true });
    expect(h.loss.map((s) => s.name)).toEqual(["train loss", "in-sample loss (no validation set)"]);
    expect(h.accuracy.map((s) => s.name)).toEqual(["train acc", "in-sample acc (no validation set)"]);
    // With a VAL part they are validation curves.
    expect(historySeries(history).loss.map((s) => s.name)).toEqual(["train loss", "val loss"]);
  });

  it("reads from a run's metrics whether it validated on TRAIN and which epoch it kept", () => {
    expect(historyNotes({ valIsTrain: true, card: { training: { bestEpoch: 2 } } })).toEqual({ valIsTrain: true, bestEpoch: 2 });
    expect(historyNotes({ history })).toEqual({ valIsTrain: false, bestEpoch: undefined });
    expect(historyNotes(null)).toEqual({ valIsTrain: false, bestEpoch: undefined });
    // A model registered from a folder records its card's training at the top level (modelRuntime).
    expect(historyNotes({ training: { bestEpoch: 3 } })).toEqual({ valIsTrain: false, bestEpoch: 3 });
  });

  it("marks the kept epoch on the chart, and only an epoch the curves have", () => {
    expect(historySeries(history, { bestEpoch: 2 }).kept).toEqual({ x: 2, label: "kept: epoch 2" });
    expect(historySeries(history, { bestEpoch: 9 }).kept).toBeNull();
    expect(historySeries(history).kept).toBeNull();
    const h = historySeries(history, { bestEpoch: 2 });
    const svg = renderToStaticMarkup(createElement(LineChart, { series: h.loss, title: "Loss", yLabel: "loss", marker: h.kept }));
    expect(svg).toContain('data-testid="kept-epoch"');
    expect(svg).toContain("kept: epoch 2");
    expect(renderToStaticMarkup(createElement(LineChart, { series: h.loss, title: "Loss", yLabel: "loss" }))).not.toContain("kept-epoch");
  });
});
