// The Markdown of the project's reports as one standalone HTML page: headings, paragraphs, lists, pipe tables,
// images (the PNGs beside the report), inline code, bold and italics. Only this subset: the reports write nothing
// else. Text is escaped; nothing is fetched from anywhere.

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Inline markup of one line: `code` first (its content is literal), then images, bold, italics. */
function inline(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part) => {
      if (part.startsWith('`') && part.endsWith('`') && part.length >= 2)
        return `<code>${escapeHtml(part.slice(1, -1))}</code>`;
      return escapeHtml(part)
        .replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, '<img alt="$1" src="$2">')
        .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
        .replace(/(^|[\s(])_([^_]+)_(?=$|[\s).,;:])/g, '$1<em>$2</em>');
    })
    .join('');
}

function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((c) => c.trim());
}

export function markdownToHtml(markdown: string, title: string): string {
  const out: string[] = [];
  const lines = markdown.split('\n');
  let paragraph: string[] = [];
  const endParagraph = () => {
    if (paragraph.length > 0) out.push(`<p>${paragraph.map(inline).join(' ')}</p>`);
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heading = /^(#{1,6}) (.*)$/.exec(line);
    if (heading) {
      endParagraph();
      const level = heading[1]!.length;
      out.push(`<h${level}>${inline(heading[2]!)}</h${level}>`);
    } else if (line.startsWith('|') && lines[i + 1]?.startsWith('|') && /^\|[\s|:-]+\|$/.test(lines[i + 1]!.trim())) {
      endParagraph();
      out.push(
        '<table>',
        `<tr>${cells(line)
          .map((c) => `<th>${inline(c)}</th>`)
          .join('')}</tr>`,
      );
      i += 2;
      for (; i < lines.length && lines[i]!.startsWith('|'); i++)
        out.push(
          `<tr>${cells(lines[i]!)
            .map((c) => `<td>${inline(c)}</td>`)
            .join('')}</tr>`,
        );
      i--;
      out.push('</table>');
    } else if (/^[-*] /.test(line)) {
      endParagraph();
      out.push('<ul>');
      for (; i < lines.length && /^[-*] /.test(lines[i]!); i++) out.push(`<li>${inline(lines[i]!.slice(2))}</li>`);
      i--;
      out.push('</ul>');
    } else if (line.trim() === '') endParagraph();
    else paragraph.push(line);
  }
  endParagraph();
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}' +
      'table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}' +
      'code{background:#f3f3f3;padding:0 3px}img{max-width:100%}</style>',
    '</head><body>',
    ...out,
    '</body></html>',
    '',
  ].join('\n');
}
