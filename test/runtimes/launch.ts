import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * The runtimes the fetch adapter and the client are tested on, each from its npm package.
 * `workerd` runs with the compatibility date of its release; `workerd-web-timers` also with
 * `no_nodejs_global_timers`, as a worker whose compatibility date predates
 * `enable_nodejs_global_timers` runs: `setTimeout` returns a number there, not a Node `Timeout` with
 * `ref()`/`unref()`.
 */
export type RuntimeName = 'bun' | 'deno' | 'workerd' | 'workerd-web-timers';

/** A runtime serving the app of `app.ts` on 127.0.0.1. */
export interface RunningRuntime {
  url: string;
  /** What the runtime printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const READY_WITHIN_MS = 20_000;

/**
 * The native executable of each runtime's npm package. Called directly, not through the packages'
 * Node launchers (deno's `bin.cjs` and workerd's `bin/workerd` spawn the binary as a grandchild that a
 * kill of the launcher would orphan).
 */
function executable(name: RuntimeName): string {
  switch (name) {
    case 'bun':
      // The postinstall script (allowed in pnpm-workspace.yaml) puts the platform binary here.
      return join(dirname(require.resolve('bun/package.json')), 'bin', 'bun.exe');
    case 'deno':
      // Resolves the binary of the installed @deno/<platform> package (copies it beside, once).
      return (require('deno/install_api.cjs') as { runInstall(): string }).runInstall();
    case 'workerd':
    case 'workerd-web-timers':
      return (require('workerd') as { default: string }).default;
  }
}

/**
 * Bundles `<entry>-entry.ts` from the workspace sources (the `@oncely/source` condition) into one ES
 * module: no build of the packages needed, and no runtime resolves a workspace package itself.
 * `platform: 'node'` for code that needs Node's APIs (drivers), else nothing Node-specific is allowed.
 */
async function bundle(
  entry: string,
  outdir: string,
  platform: 'neutral' | 'node' = 'neutral',
): Promise<string> {
  const outfile = join(outdir, `${entry}.js`);
  await build({
    entryPoints: [join(here, `${entry}-entry.ts`)],
    outfile,
    bundle: true,
    format: 'esm',
    platform,
    mainFields: ['module', 'main'],
    conditions: ['@oncely/source'],
    target: 'es2022',
    logLevel: 'error',
    // CommonJS drivers (ioredis, pg) call require() for Node's modules: give the ES module one.
    ...(platform === 'node'
      ? {
          banner: {
            js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
          },
        }
      : {}),
  });
  return outfile;
}

/** The environment of every runtime: nothing but the test's own traffic, no prompts. */
function runtimeEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // No update checks, no telemetry, no prompts.
    DENO_NO_UPDATE_CHECK: '1',
    DENO_NO_PROMPT: '1',
    DO_NOT_TRACK: '1',
    NO_COLOR: '1',
    ...extra,
  };
}

/**
 * Bundles `<entry>-entry.ts` for Node's APIs and runs it to its end in Bun or Deno; resolves with its
 * standard output, or rejects with its output when it fails or runs past `timeoutMs`.
 */
export async function runScript(
  name: 'bun' | 'deno',
  entry: string,
  workdir: string,
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<string> {
  const outdir = join(workdir, `${name}-${entry}`);
  await mkdir(outdir, { recursive: true });
  const script = await bundle(entry, outdir, 'node');
  const args =
    name === 'bun'
      ? ['run', script]
      : [
          'run',
          '--no-config',
          '--no-lock',
          '--allow-net',
          '--allow-env',
          '--allow-read',
          '--allow-sys',
          script,
        ];
  const child = spawn(executable(name), args, {
    cwd: outdir,
    env: runtimeEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${name} ${entry} exited with ${code ?? 'a signal'}:\n${stdout}${stderr}`);
  return stdout;
}

/** A free port on 127.0.0.1, for workerd, whose config names its address up front. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * workerd's config: the worker, a socket on `port`, and an outbound network allowed to reach
 * loopback (by default a worker's fetch reaches public addresses only).
 */
function workerdConfig(port: number, compatibilityDate: string, flags: readonly string[]): string {
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [(name = "app.js", esModule = embed "workerd.js")],
  compatibilityDate = "${compatibilityDate}",
  compatibilityFlags = [${flags.map((flag) => JSON.stringify(flag)).join(', ')}],
  globalOutbound = "loopback",
);
`;
}

/** Bundles the app for `name`, starts the runtime with it and waits until it answers. */
export async function startRuntime(name: RuntimeName, workdir: string): Promise<RunningRuntime> {
  const outdir = join(workdir, name);
  await mkdir(outdir, { recursive: true });
  const script = await bundle(name === 'workerd-web-timers' ? 'workerd' : name, outdir);
  const env = runtimeEnv();
  let args: string[];
  let port: number | undefined;
  switch (name) {
    case 'bun':
      args = ['run', script];
      break;
    case 'deno':
      args = ['run', '--no-config', '--no-lock', '--allow-net=127.0.0.1', script];
      break;
    case 'workerd':
    case 'workerd-web-timers': {
      port = await freePort();
      // The date of the pinned workerd release: every flag it enables by default is on.
      const { compatibilityDate } = require('workerd') as { compatibilityDate: string };
      const flags = name === 'workerd-web-timers' ? ['no_nodejs_global_timers'] : [];
      await writeFile(join(outdir, 'config.capnp'), workerdConfig(port, compatibilityDate, flags));
      args = ['serve', join(outdir, 'config.capnp')];
      break;
    }
  }
  const child = spawn(executable(name), args, { cwd: outdir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
  const stop = () => stopChild(child);
  try {
    const url = await ready(child, () => output, port);
    return { url, output: () => output, stop };
  } catch (error) {
    await stop();
    throw new Error(`${name} did not start: ${(error as Error).message}\n${output}`);
  }
}

/** Resolves with the base URL once the runtime answers `GET /runs`. */
async function ready(child: ChildProcess, output: () => string, port: number | undefined): Promise<string> {
  const until = Date.now() + READY_WITHIN_MS;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (Date.now() < until) {
    if (exited) throw new Error(`exited with ${child.exitCode ?? child.signalCode}`);
    const announced = /listening (\d+)/.exec(output())?.[1];
    const url = `http://127.0.0.1:${port ?? announced}`;
    if (port !== undefined || announced !== undefined) {
      const answer = await fetch(`${url}/runs`).catch(() => undefined);
      if (answer?.status === 200) return url;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`not answering within ${READY_WITHIN_MS} ms`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
