/** The message event of a WebSocket: text as a string, binary data as bytes. */
export interface WebSocketMessageEvent {
  /** A string for a text frame; an `ArrayBuffer` for a binary one, as the client sets `binaryType`. */
  readonly data: unknown;
}

/** The close event of a WebSocket. */
export interface WebSocketCloseEvent {
  /** The close code; 1005 when the close frame carried none, 1006 when the connection dropped without one. */
  readonly code: number;
  /** The close reason, `''` for none. */
  readonly reason: string;
}

/**
 * The part of the WebSocket API the client uses, which the browser's `WebSocket`,
 * Node's own (from Node 22) and the `ws` package all have.
 */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** The subprotocol the server chose, `''` for none. */
  readonly protocol: string;
  /** How binary frames arrive; the client sets `'arraybuffer'`. */
  binaryType: string;
  /** Calls `listener` with every frame. */
  addEventListener(type: 'message', listener: (event: WebSocketMessageEvent) => void): void;
  /** Calls `listener` once the connection has closed, or could not be opened. */
  addEventListener(type: 'close', listener: (event: WebSocketCloseEvent) => void): void;
  /** Calls `listener` once the connection is open, or when it failed. */
  addEventListener(type: 'open' | 'error', listener: () => void): void;
  /** Sends one text frame. */
  send(data: string): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor: `globalThis.WebSocket`, or `WebSocket` from the `ws` package. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** `WebSocket.OPEN`, which not every implementation has as a static. */
export const OPEN = 1;
