import { describe, expect, it } from "vitest";
import { aboutFile, limitsText, megabytes, precheck, timeoutMessage, UPLOAD_LIMITS, uploadOutcome, uploadSummary, uploadTimeoutMs } from "./uploadRules";

const MB = 1024 * 1024;
const file = (name: string, type: string, size = 2 * MB) => ({ name, type, size });

describe("precheck before sending", () => {
  it("lets JPEG and PNG images through, as the picker and the API take them", () => {
    expect(precheck(file("field-1.jpg", "image/jpeg"), "FIELD")).toBeNull();
    expect(precheck(file("FIELD-2.JPEG", "image/jpeg"), "FIELD")).toBeNull();
    expect(precheck(file("cell.png", "image/png"), "CROP")).toBeNull();
    // Exactly at the limit is allowed (the API refuses only what is larger).
    expect(precheck(file("big.png", "image/png", UPLOAD_LIMITS.maxBytes), "FIELD")).toBeNull();
  });

  it("leaves files whose type the browser cannot tell to the API, which checks by content", () => {
    expect(precheck(file("scan", ""), "FIELD")).toBeNull();
    expect(precheck(file("scan.jpg", "application/octet-stream"), "FIELD")).toBeNull();
  });

  it("refuses other formats by MIME type or by extension, saying what to do", () => {
    const tiff = precheck(file("smear.tiff", "image/tiff", 300 * MB), "FIELD");
    expect(tiff).toBe("smear.tiff is not a JPEG or PNG image (image/tiff): export it as JPEG or PNG and upload that file. Nothing was sent.");
    expect(precheck(file("IMG_0042.HEIC", ""), "FIELD")).toContain("(.heic file)");
    expect(precheck(file("report.pdf", "application/pdf"), "FIELD")).toContain("not a JPEG or PNG image");
    // A browser's type for an extension it does not know: the extension still tells.
    expect(precheck(file("slide.svs", "application/octet-stream"), "FIELD")).toContain("(.svs file)");
    expect(precheck(file("cell.png.gif", "image/gif"), "CROP")).toContain("(image/gif)");
  });

  it("refuses files over the API's 25 MB, in MB rounded up, with a fix for the kind of image", () => {
    expect(precheck(file("field.png", "image/png", 31.2 * MB), "FIELD")).toBe(
      "field.png is 31.2 MB; the limit is 25 MB per image. Export it as JPEG (quality 90 is plenty) or at a lower resolution, and upload that file. Nothing was sent.",
    );
    expect(precheck(file("field.png", "image/png", UPLOAD_LIMITS.maxBytes + 1), "FIELD")).toContain("is 25.1 MB; the limit is 25 MB");
    expect(precheck(file("cell.png", "image/png", 40 * MB), "CROP")).toContain("is this a whole field? Choose “Smear fields”");
  });

  it("refuses an empty file", () => {
    expect(precheck(file("field.jpg", "image/jpeg", 0), "FIELD")).toBe("field.jpg is empty (0 bytes): export or copy it again. Nothing was sent.");
  });

  it("states the limits the way the refusals do", () => {
    expect(limitsText()).toBe("JPEG or PNG, up to 25 MB and 40 megapixels per image; single-cell crops at most 1024 pixels per side.");
    expect(megabytes(5 * MB)).toBe("5.0 MB");
  });
});

describe("upload timeout", () => {
  it("gives small files two minutes and large ones time for a slow link", () => {
    expect(uploadTimeoutMs(100_000)).toBe(120_000);
    expect(uploadTimeoutMs(UPLOAD_LIMITS.maxBytes)).toBeGreaterThan(5 * 60_000);
    expect(timeoutMessage(120_000)).toMatch(/^No answer from the server within 2 minutes, so the upload was stopped\. .*press Retry/);
  });
});

describe("an upload's answer", () => {
  const error = (code: string, message: string) => JSON.stringify({ errors: [{ message, extensions: { code } }] });

  it("is stored on 201", () => {
    expect(uploadOutcome(201, JSON.stringify({ slides: [] }))).toEqual({ ok: true, message: "Uploaded; analysis queued." });
  });

  it("is worth a Retry when the server says 'not now'", () => {
    expect(uploadOutcome(429, error("RATE_LIMITED", "Your previous upload is still being received"))).toEqual({
      ok: false,
      message: "Your previous upload is still being received",
      retryable: true,
    });
    expect(uploadOutcome(503, error("UNAVAILABLE", "x"))).toMatchObject({ retryable: true });
    // The dashboard's gateway could not reach the API.
    expect(uploadOutcome(502, error("NETWORK", "The API could not be reached."))).toMatchObject({ retryable: true, message: expect.stringMatching(/could not be reached/) });
    expect(uploadOutcome(504, "<html>Gateway Timeout</html>")).toMatchObject({ retryable: true });
  });

  it("is final when the file itself is refused", () => {
    const bad = uploadOutcome(400, error("BAD_USER_INPUT", "x.png: not a JPEG or PNG image (checked by content); nothing was stored"));
    expect(bad).toEqual({ ok: false, message: "x.png: not a JPEG or PNG image (checked by content); nothing was stored", retryable: false });
    expect(uploadOutcome(409, error("CONFLICT", "x.png was already uploaded to this case; nothing was stored"))).toMatchObject({ retryable: false });
    expect(uploadOutcome(500, "not json")).toEqual({ ok: false, message: "Upload refused (HTTP 500).", retryable: false });
    // An error in a 2xx body is no success.
    expect(uploadOutcome(200, error("FORBIDDEN", "no"))).toMatchObject({ ok: false });
  });
});

describe("a message about a file", () => {
  it("names the file once", () => {
    expect(aboutFile("a.png", "a.png: not a JPEG or PNG image; nothing was stored")).toBe("a.png: not a JPEG or PNG image; nothing was stored");
    expect(aboutFile("a.png", "The server could not be reached.")).toBe("a.png: The server could not be reached.");
  });
});

describe("the live summary", () => {
  it("counts what was sent, refused and still to send, in one line", () => {
    expect(uploadSummary([])).toBe("");
    expect(uploadSummary(["queued", "uploading", "done"])).toBe("2 images still to send; 1 image uploaded.");
    expect(uploadSummary(["done", "done", "rejected", "failed", "cancelled"])).toBe(
      "2 images uploaded; 1 image refused (see why in the list); 1 image not sent: press Retry; 1 image cancelled.",
    );
  });
});
