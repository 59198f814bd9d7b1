// The API reference page (/api/docs): Swagger UI, vendored, reading this origin's /openapi.json.
// A file rather than an inline script, so the page works under a CSP without 'unsafe-inline'.
// "Try it out" calls the API with this browser's session cookie; writes need the X-CSRF-Token
// header, which the request interceptor adds from the csrf_token of /api/v1/auth/me.
let csrfToken = null;

async function fetchCsrfToken() {
  const answer = await fetch('/api/v1/auth/me', { credentials: 'same-origin' });
  return answer.ok ? (await answer.json()).csrf_token : null;
}

async function addCsrfToken(request) {
  if (request.method !== 'GET' && request.url.includes('/api/v1/')) {
    csrfToken = csrfToken || await fetchCsrfToken();
    if (csrfToken) request.headers['X-CSRF-Token'] = csrfToken;
  }
  return request;
}

window.SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#api-reference',
  deepLinking: true,
  validatorUrl: null,
  requestInterceptor: addCsrfToken,
});
