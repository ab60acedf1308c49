import { withCode } from '../protocol/errors.js';

/**
 * Imports a package that only the AsyncAPI document needs, when it is needed: an
 * application that never builds the document does not have to install it.
 * @param purpose what needs it, for the message: "describing SayDto".
 * @throws Error (`EASY_WS_MISSING_PACKAGE`) when the package is not installed.
 */
export async function importOptional<T>(name: string, purpose: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    if (isNotFound(error, name)) {
      throw withCode(
        new Error(`EasyWs: the AsyncAPI document needs the package "${name}" for ${purpose}; install it: npm install ${name}`, { cause: error }),
        'EASY_WS_MISSING_PACKAGE',
      );
    }
    throw error;
  }
}

/** Whether `error` says that `name` itself is missing, not something it imports. */
function isNotFound(error: unknown, name: string): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && typeof message === 'string' && message.includes(`'${name}'`);
}
