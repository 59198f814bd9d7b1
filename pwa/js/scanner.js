// Reading QR codes from the camera: the browser's BarcodeDetector where it exists, else the
// barcode-detector polyfill with its zxing WASM served from this origin (never a CDN).
let Detector = null;

async function detectorClass() {
  if ("BarcodeDetector" in window) return window.BarcodeDetector;
  const module = await import("/static/vendor/barcode-detector-3.2.2/ponyfill.js");
  module.setZXingModuleOverrides({
    locateFile: (path, prefix) => (path.endsWith(".wasm") ? "/static/vendor/zxing-wasm-3.1.3/" + path : prefix + path),
  });
  return module.BarcodeDetector;
}

// Starts the camera in `video` and calls onCode(text) for each new code seen. Returns stop().
export async function startCamera(video, onCode) {
  Detector = Detector || (await detectorClass());
  const detector = new Detector({ formats: ["qr_code"] });
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  video.srcObject = stream;
  await video.play();
  let running = true;
  let last = "";
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
