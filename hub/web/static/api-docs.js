// The API reference at /api/docs: Swagger UI (npm swagger-ui-dist, copied into static/ by bin/setup
// and served by the hub itself, so it works offline and under the hub's content security policy)
// rendering the hub's OpenAPI document. Without JavaScript the page lists the operations instead.
(function () {
  'use strict'
  var root = document.getElementById('api-reference')
  if (!root || typeof window.SwaggerUIBundle !== 'function') {
    return
  }
  window.SwaggerUIBundle({
    url: root.getAttribute('data-spec-url'),
    domNode: root,
    deepLinking: true,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
    displayOperationId: true,
    displayRequestDuration: false,
    showCommonExtensions: true,
    // A reference, not a console: requests are made from the partner's own system, never from this page.
    supportedSubmitMethods: [],
    validatorUrl: null
  })
})()
