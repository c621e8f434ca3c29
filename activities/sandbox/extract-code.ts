/**
 * Code extraction as the published PromptCoT 2.0 code reward does it:
 * take the text after the first `</think>` (the whole text if there is none), then the LAST fenced
 * block, i.e. the lines strictly between the last two lines that contain "```". Empty → undefined.
 */
export function extractCode(completion: string): string | undefined {
  const thinkEnd = completion.indexOf('</think>');
  const answer = thinkEnd >= 0 ? completion.slice(thinkEnd + '</think>'.length) : completion;
  const lines = answer.split('\n');
  const fenceLines: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.includes('```')) fenceLines.push(i);
  }
  if (fenceLines.length < 2) return undefined;
  const end = fenceLines[fenceLines.length - 1]!;
  const start = fenceLines[fenceLines.length - 2]!;
  const code = lines.slice(start + 1, end).join('\n');
  return code.trim() === '' ? undefined : code;
}
