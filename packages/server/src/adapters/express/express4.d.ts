// Express 4 is installed under this alias for the tests; its API is typed by @types/express (5).
declare module 'express4' {
  import express from 'express';
  export default express;
}
