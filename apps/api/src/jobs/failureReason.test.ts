import { describe, expect, it } from "vitest";
import { failureReason, redactPaths } from "./failureReason.ts";
import { PermanentJobError } from "./types.ts";

describe("failure reasons shown to users", () => {
  it("keep a permanent error's reason but no server path", () => {
    const err = new PermanentJobError("image unusable: ENOENT: no such file or directory, open '/srv/rcmnet/.data/blobs/ab/abcdef.jpg'");
    expect(failureReason(err, "j1")).toBe("image unusable: ENOENT: no such file or directory, open '<path>'");
  });
  it("name only the job for any other error", () => {
    const reason = failureReason(new Error('relation "cell" does not exist at /app/node_modules/prisma/x.js:1'), "j2");
    expect(reason).toBe("analysis failed (internal error; the worker log has the details under job j2)");
  });
  it("redact Windows and POSIX paths, leave plain words and fractions alone", () => {
    expect(redactPaths("at C:\\data\\models\\m1 and /tmp/x/y")).toBe("at <path> and <path>");
    expect(redactPaths("image unusable: 3/4 of the file is missing")).toBe("image unusable: 3/4 of the file is missing");
  });
});
