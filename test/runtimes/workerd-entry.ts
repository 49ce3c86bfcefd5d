import { createApp } from './app.js';

// A module worker: workerd calls `fetch` for every request on the socket its config binds.
const app = createApp();

export default {
  fetch: (request: Request): Promise<Response> => app(request),
};
