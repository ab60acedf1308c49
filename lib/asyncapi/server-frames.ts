import type { FrameDeclaration, PayloadType } from '../handlers/interfaces/handler-documentation.interface.js';
import { commandProblem } from '../protocol/rules.js';
import { invalidDeclaration, type Payload, type PayloadSchemas } from './payload-schemas.js';

/** A frame the server sends, as every declaration that names it describes it. */
export interface ServerFrame {
  readonly command: string;
  readonly payload: Payload;
  readonly summary?: string;
  readonly description?: string;
}

interface Noted {
  payload?: { readonly type: PayloadType; readonly where: string };
  summary?: string;
  description?: string;
}

/**
 * The frames the server sends, by command, gathered from the `replies` and `pushes` of
 * every declaration. A client tells frames apart by their command alone (a reply and a
 * push look the same), so one command has one payload: it is declared in one place,
 * and elsewhere the command's name stands for it.
 */
export class ServerFrames {
  private readonly noted = new Map<string, Noted>();

  /**
   * Notes the frames of one declaration.
   * @param where the declaration, for errors: `@Command("say") on ChatCommands.say`.
   * @returns their commands, in the order given.
   * @throws Error (`EASY_WS_INVALID_DECLARATION`) for a frame that cannot be sent, or a second, different payload.
   */
  note(frames: readonly FrameDeclaration[] | undefined, where: string): string[] {
    if (frames === undefined) {
      return [];
    }
    if (!Array.isArray(frames)) {
      throw invalidDeclaration(`${where}: replies and pushes are arrays of frames (a command, or { command, payload })`);
    }
    return frames.map((frame) => this.noteOne(frame, where));
  }

  /** Every frame noted, sorted by command, with its payload as a schema. */
  describe(schemas: PayloadSchemas): ServerFrame[] {
    return [...this.noted]
      // By code unit, not by locale: the document is the same on every machine.
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([command, { payload, summary, description }]) => ({
        command,
        payload: schemas.declared(payload?.type, payload?.where ?? command),
        ...(summary !== undefined && { summary }),
        ...(description !== undefined && { description }),
      }));
  }

  private noteOne(frame: FrameDeclaration, where: string): string {
    const { command, payload, summary, description } = typeof frame === 'string' ? { command: frame } : (frame ?? {});
    const problem = commandProblem(command as string);
    if (problem) {
      throw invalidDeclaration(`${where}: the frame ${JSON.stringify(command)} cannot be sent: ${problem}`);
    }
    const noted = this.noted.get(command) ?? {};
    this.noted.set(command, noted);
    if (payload !== undefined) {
      if (noted.payload && !samePayload(noted.payload.type, payload)) {
        throw invalidDeclaration(
          `The frame ${JSON.stringify(command)} is declared with two payloads, on ${noted.payload.where} and on ${where}: ` +
            `a client tells frames apart by their command, so declare its payload once and name the command alone elsewhere`,
        );
      }
      noted.payload ??= { type: payload, where };
    }
    noted.summary ??= summary;
    noted.description ??= description;
    return command;
  }
}

function samePayload(a: PayloadType, b: PayloadType): boolean {
  return a === b || (typeof a === 'object' && typeof b === 'object' && JSON.stringify(a) === JSON.stringify(b));
}
