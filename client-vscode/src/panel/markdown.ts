// A small markdown renderer for the model's reasoning. It covers ATX headings, fenced
// code blocks, inline code, emphasis, bullet and numbered lists and paragraphs. Every
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

/** Renders one line of inline markdown: code spans first, then emphasis outside them. */
export function renderInline(text: string): string {
  const parts: string[] = [];
  const codeSpan = /(`+)([\s\S]*?[^`])\1(?!`)/g;
  let last = 0;
  for (let match = codeSpan.exec(text); match !== null; match = codeSpan.exec(text)) {
    parts.push(renderEmphasis(escapeHtml(text.slice(last, match.index))));
    parts.push(`<code>${escapeHtml(match[2].trim() || match[2])}</code>`);
    last = match.index + match[0].length;
  }
  parts.push(renderEmphasis(escapeHtml(text.slice(last))));
  return parts.join("");
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
