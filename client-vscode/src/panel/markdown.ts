// A small markdown renderer for the model's reasoning. It covers ATX headings, fenced
// code blocks, inline code, emphasis (also around code), block quotes, bullet and
// numbered lists and paragraphs. Every
// piece of source text is HTML-escaped before any tag is added, so model output can
// never inject markup into the webview. Links, images, tables and raw HTML are shown
// as plain text.

/** Escapes the five HTML-significant characters. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

// Emphasis on text that is already escaped: `**strong**`, `__strong__`, `*em*`, `_em_`.
// Underscores inside words (snake_case names) do not open emphasis.
function renderEmphasis(escaped: string): string {
  return escaped
    .replace(/\*\*(?=\S)([^*]*?\S)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^\w])__(?=\S)([^_]*?\S)__(?![\w])/g, "$1<strong>$2</strong>")
    .replace(/\*(?=\S)([^*]*?\S)\*/g, "<em>$1</em>")
    .replace(/(^|[^\w])_(?=\S)([^_]*?\S)_(?![\w])/g, "$1<em>$2</em>");
}

/**
 * Renders one line of inline markdown. Code spans are set aside as placeholders first,
 * so that emphasis can surround them (`**\`Name\`**`) but never applies inside them.
 */
export function renderInline(text: string): string {
  const spans: string[] = [];
  const codeSpan = /(`+)([\s\S]*?[^`])\1(?!`)/g;
  const withPlaceholders = text.replace(/\u0000/g, "").replace(codeSpan, (_match, _ticks, body: string) => {
    spans.push(`<code>${escapeHtml(body.trim() || body)}</code>`);
    return `\u0000${spans.length - 1}\u0000`;
  });
  return renderEmphasis(escapeHtml(withPlaceholders)).replace(/\u0000(\d+)\u0000/g, (_m, i: string) => spans[Number(i)]);
}

type ListKind = "ul" | "ol";

/**
 * Renders markdown to HTML. An unclosed code fence runs to the end of the text, so a
 * partial answer that is still streaming renders its open fence as code.
 */
export function renderMarkdown(source: string): string {
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  const html: string[] = [];
  let paragraph: string[] = [];
  let list: ListKind | undefined;

  const closeParagraph = (): void => {
    if (paragraph.length > 0) {
      html.push(`<p>${paragraph.map(renderInline).join("<br>")}</p>`);
      paragraph = [];
    }
  };
  const closeList = (): void => {
    if (list !== undefined) {
      html.push(`</${list}>`);
      list = undefined;
    }
  };

  let index = 0;
  while (index < lines.length) {
    const line = lines[index];

    const fence = /^\s{0,3}(`{3,}|~{3,})\s*([\w+#.-]*)/.exec(line);
    if (fence) {
      closeParagraph();
      closeList();
      const marker = fence[1];
      const body: string[] = [];
      index += 1;
      while (index < lines.length && !lines[index].trimStart().startsWith(marker)) {
        body.push(lines[index]);
        index += 1;
      }
      index += 1; // the closing fence, or past the end when the fence is still open
      const language = fence[2] ? ` class="language-${escapeHtml(fence[2])}"` : "";
      html.push(`<pre><code${language}>${escapeHtml(body.join("\n"))}</code></pre>`);
      continue;
    }

    const heading = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      closeParagraph();
      closeList();
      const level = heading[1].length;
      html.push(`<h${level}>${renderInline(heading[2])}</h${level}>`);
      index += 1;
      continue;
    }

    if (/^\s{0,3}>/.test(line)) {
      closeParagraph();
      closeList();
      const quoted: string[] = [];
      while (index < lines.length && /^\s{0,3}>/.test(lines[index])) {
        quoted.push(lines[index].replace(/^\s{0,3}>\s?/, "").trim());
        index += 1;
      }
      html.push(`<blockquote><p>${quoted.map(renderInline).join("<br>")}</p></blockquote>`);
      continue;
    }

    const bullet = /^\s*[-*+]\s+(.*)$/.exec(line);
    const numbered = /^\s*\d{1,9}[.)]\s+(.*)$/.exec(line);
    if (bullet || numbered) {
      closeParagraph();
      const kind: ListKind = bullet ? "ul" : "ol";
      if (list !== kind) {
        closeList();
        html.push(`<${kind}>`);
        list = kind;
      }
      html.push(`<li>${renderInline((bullet ?? numbered)![1])}</li>`);
      index += 1;
      continue;
    }

    if (line.trim() === "") {
      closeParagraph();
      closeList();
    } else {
      closeList();
      paragraph.push(line.trim());
    }
    index += 1;
  }
  closeParagraph();
  closeList();
  return html.join("\n");
}
