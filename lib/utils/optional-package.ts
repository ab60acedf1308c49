import { withCode } from '../protocol/errors.js';

/**
 * Imports a package that only one feature needs, when that feature is used: an
 * application that never uses it does not have to install it.
 * @param feature what needs it, for the message: "the AsyncAPI document", "metrics".
 * @param purpose what it needs it for, when that helps: "describing SayDto".
 * @throws Error (`EASY_WS_MISSING_PACKAGE`) when the package is not installed.
 */
export async function importOptional<T>(name: string, feature: string, purpose?: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    if (isNotFound(error, name)) {
      throw withCode(
        new Error(`EasyWs: ${feature} needs the package "${name}"${purpose ? ` for ${purpose}` : ''}; install it: npm install ${name}`, { cause: error }),
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
