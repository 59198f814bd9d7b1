// Talking to the API: JSON in and out, the CSRF token on writes, problem documents as ApiError.
let csrfToken = sessionStorage.getItem("yima.csrf") || "";

export class ApiError extends Error {
  constructor(status, code, detail, problem = {}) {
    super(detail || code);
    this.status = status;
    this.code = code;
    this.problems = Array.isArray(problem.problems) ? problem.problems : []; // field-level {field, code}
    this.problem = problem; // the whole document: retry_after, reason...
  }
}

export function setCsrf(token) {
  csrfToken = token || "";
  sessionStorage.setItem("yima.csrf", csrfToken);
}

export async function call(method, path, body, headers = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, "network", "network");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    // The session ended (expired, logged out elsewhere): the app shell offers a login, keeps the codes.
    if (response.status === 401 && !path.startsWith("/api/v1/auth/")) sessionLost?.();
    throw new ApiError(response.status, data.code || "http_error", data.detail, data);
  }
  return data;
}

let sessionLost = null;
export function onSessionLost(handler) {
  sessionLost = handler;
}

export const get = (path) => call("GET", path);
export const post = (path, body, headers) => call("POST", path, body, headers);
export const put = (path, body) => call("PUT", path, body);
export const patch = (path, body) => call("PATCH", path, body);
