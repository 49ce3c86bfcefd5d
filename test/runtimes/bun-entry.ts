import { createApp } from './app.js';

// Bun's own server API (not node:http); typed here so the repository needs no Bun typings.
declare const Bun: {
  serve(options: { hostname: string; port: number; fetch: (request: Request) => Promise<Response> }): {
    port: number;
  };
};

const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: createApp() });
console.log(`listening ${server.port}`);
