/** The module resolution hooks of hidden-packages.ts: an import of a hidden package fails as a missing one does. */

let hidden: readonly string[] = [];

export function initialize(names: readonly string[]): void {
  hidden = names;
}

export async function resolve(
  specifier: string,
  context: { readonly parentURL?: string },
  nextResolve: (specifier: string, context: unknown) => Promise<unknown>,
): Promise<unknown> {
  const name = hidden.find((each) => specifier === each || specifier.startsWith(`${each}/`));
  if (name !== undefined) {
    throw Object.assign(new Error(`Cannot find package '${name}' imported from ${context.parentURL}`), { code: 'ERR_MODULE_NOT_FOUND' });
  }
  return nextResolve(specifier, context);
}
