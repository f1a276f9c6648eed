/**
 * The message of anything thrown: an Error's message, or the value as text (a rejected promise may carry
 * anything). A leaf module with no imports, so every layer may use it.
 */
export function errorMessage(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error) return String(error.message);
  return String(error);
}
