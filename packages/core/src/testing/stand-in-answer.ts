/** The default answer of every fake model API: it quotes what a tool answered, after a call, else the user. */
export function standInAnswer(userText: string, toolOutput?: string): string {
  return toolOutput !== undefined
    ? `Offline stand-in model here. The tool answered: ${toolOutput.trim() || '(nothing)'}`
    : `Offline stand-in model here. You said: ${userText.trim() || '(nothing)'}`;
}
