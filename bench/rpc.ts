import type { ChildProcess } from 'node:child_process';

/** A request from the bench runner to one of its child processes. */
interface RpcRequest {
  readonly id: number;
  readonly op: string;
  readonly args: unknown;
}

/** The answer to an `RpcRequest` with the same id. */
interface RpcResponse {
  readonly id: number;
  readonly result?: unknown;
  readonly error?: string;
}

/** What a child process answers: one async function per operation. */
export type RpcHandlers = Record<string, (args: never) => unknown>;

/**
 * Answers the runner's requests in a child process, and exits when the runner goes
 * away, so that no server or load generator outlives an interrupted bench.
 */
export function answerRequests(handlers: RpcHandlers): void {
  if (!process.send) {
    throw new Error('this bench process must be started by the bench runner (it talks over IPC)');
  }
  process.on('message', (message: RpcRequest) => {
    const handler = handlers[message.op];
    void (async () => {
      try {
        if (!handler) {
          throw new Error(`unknown operation ${message.op}`);
        }
        const result = await handler(message.args as never);
        process.send?.({ id: message.id, result } satisfies RpcResponse);
      } catch (error) {
        process.send?.({ id: message.id, error: (error as Error)?.stack ?? String(error) } satisfies RpcResponse);
      }
    })();
  });
  process.on('disconnect', () => process.exit(0));
}

/** The runner's side: calls operations of a child process and awaits their results. */
export class RpcClient {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();

  constructor(readonly child: ChildProcess, readonly name: string) {
    child.on('message', (message: RpcResponse) => {
      const call = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error !== undefined) {
        call?.reject(new Error(`${name}: ${message.error}`));
      } else {
        call?.resolve(message.result);
      }
    });
    child.once('exit', (code, signal) => {
      for (const call of this.pending.values()) {
        call.reject(new Error(`${name} exited (${signal ?? code}) during a request`));
      }
      this.pending.clear();
    });
  }

  /** Runs `op` in the child; rejects with the child's error, or if it dies first. */
  call<T>(op: string, args: unknown = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ id, op, args } satisfies RpcRequest);
    });
  }
}
