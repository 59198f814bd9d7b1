// Reading QR codes: from the camera (the browser's BarcodeDetector where it exists, else the
// barcode-detector polyfill with its zxing WASM served from this origin, never a CDN), and from a
// keyboard-wedge scanner that types the code into a field and ends it with CR, LF, TAB or GS.
let Detector = null;

// Why the camera did not start, as a stable code the screens put into words (never the browser's
// English message, such as "Requested device not found").
export class CameraError extends Error {
  constructor(code, cause) {
    super(code);
    this.code = code;
    this.cause = cause;
  }
}

const CAMERA_CODES = {
  NotFoundError: "no_camera", DevicesNotFoundError: "no_camera", OverconstrainedError: "no_camera",
  NotAllowedError: "denied", PermissionDeniedError: "denied", SecurityError: "denied",
  NotReadableError: "busy", TrackStartError: "busy", AbortError: "busy",
};

export function cameraErrorCode(error) {
  if (error instanceof CameraError) return error.code;
  return CAMERA_CODES[error?.name] || "failed";
}

async function detectorClass() {
  if ("BarcodeDetector" in window) return window.BarcodeDetector;
  try {
    const module = await import("/static/vendor/barcode-detector-3.2.2/ponyfill.js");
    module.setZXingModuleOverrides({
      locateFile: (path, prefix) => (path.endsWith(".wasm") ? "/static/vendor/zxing-wasm-3.1.3/" + path : prefix + path),
    });
    return module.BarcodeDetector;
  } catch (error) {
    throw new CameraError("decoder", error);
  }
}

// Starts the camera in `video` and calls onCode(text) for each new code seen; onLost(code) if the
// camera stops by itself (unplugged). Returns stop(). Throws CameraError.
export async function startCamera(video, onCode, onLost = () => {}) {
  if (!window.isSecureContext) throw new CameraError("insecure");
  if (!navigator.mediaDevices?.getUserMedia) throw new CameraError("unsupported");
  Detector = Detector || (await detectorClass());
  const detector = new Detector({ formats: ["qr_code"] });
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch (error) {
    throw new CameraError(cameraErrorCode(error), error);
  }
  video.srcObject = stream;
  try {
    await video.play();
  } catch (error) {
    for (const track of stream.getTracks()) track.stop();
    throw new CameraError("busy", error);
  }
  let running = true;
  let last = "";
  for (const track of stream.getVideoTracks()) {
    track.addEventListener("ended", () => { if (running) onLost("lost"); });
  }
  async function tick() {
    if (!running) return;
    try {
      const found = await detector.detect(video);
      const text = found[0]?.rawValue;
      if (text && text !== last) {
        last = text;
        onCode(text);
      }
    } catch (error) {
      // a frame that cannot be read: try the next one
    }
    setTimeout(tick, 120);
  }
  tick();
  return () => {
    running = false;
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  };
}

// The QR codes in a still picture (an uploaded photo of a certificate): their texts.
export async function readPicture(blob) {
  Detector = Detector || (await detectorClass());
  const bitmap = await createImageBitmap(blob);
  try {
    return (await new Detector({ formats: ["qr_code"] }).detect(bitmap)).map((found) => found.rawValue);
  } finally {
    bitmap.close();
  }
}

// What a scanner may send around a code (docs/token-format.md §3.3): space, TAB, LF, CR and GS.
const SURROUNDING = /^[ \t\n\r\x1d]+|[ \t\n\r\x1d]+$/g;
const TERMINATOR = /[\t\n\r\x1d]/;
export const stripScanned = (text) => text.replace(SURROUNDING, "");

// A keyboard-wedge scanner types into `input` and ends the code with CR or LF (Enter), TAB or GS
// (Ctrl+], or the character itself when it arrives as text). Calls onCode(text) once per code;
// TAB ends a code only when there is one (an empty field lets TAB move on, as a person expects).
export function attachWedge(input, onCode) {
  const finish = (extra = "") => {
    const code = stripScanned(input.value + extra);
    input.value = "";
    if (code) onCode(code);
  };
  input.addEventListener("keydown", (event) => {
    const gs = event.ctrlKey && (event.key === "]" || event.code === "BracketRight");
    const lf = event.ctrlKey && (event.key === "j" || event.key === "J");
    if (event.key === "Enter" || gs || lf || (event.key === "Tab" && !event.shiftKey && input.value.trim())) {
      event.preventDefault();
      finish();
    }
  });
  // Text that carries its own terminator (a scanner pasting, or sending LF or GS as characters):
  // an <input> would drop the line break silently, so read it before it is inserted.
  input.addEventListener("beforeinput", (event) => {
    const text = event.data ?? event.dataTransfer?.getData("text/plain") ?? "";
    const at = text.search(TERMINATOR);
    if (at < 0) return;
    event.preventDefault();
    finish(text.slice(0, at));
    const rest = stripScanned(text.slice(at));
    if (rest) input.value = rest;  // a second code in the same burst waits for its own end
  });
}
