/**
 * A tiny document model (headings, paragraphs, lists, tables, one figure, code, folded
 * details) rendered both to Markdown and to a self-contained HTML page, so the two reports say
 * exactly the same thing.
 *
 * @module
 */

/** One block of the report. */
export type Block =
  | { type: "heading"; level: 1 | 2 | 3; text: string }
  | { type: "paragraph"; text: string }
  | { type: "list"; items: string[] }
  | { type: "details"; summary: string; blocks: Block[] }
  | { type: "table"; headers: string[]; rows: string[][]; numeric?: boolean[] }
  | { type: "figure"; path: string; dataUri: string; alt: string }
  | { type: "code"; text: string };

type Table = Extract<Block, { type: "table" }>;

/** Throws when a row or the `numeric` flags do not have one entry per header. */
function checkTable(table: Table): Table {
  const width = table.headers.length;
  const bad = table.rows.findIndex((row) => row.length !== width);
  if (bad >= 0) {
    throw new Error(
      `report table [${table.headers.join(", ")}]: row ${bad} has ${
        table.rows[bad].length
      } cells, not ${width}`,
    );
  }
  if (table.numeric && table.numeric.length !== width) {
    throw new Error(
      `report table [${table.headers.join(", ")}]: ${table.numeric.length} numeric flags`,
    );
  }
  return table;
}

function mdCell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** The blocks as GitHub-flavoured Markdown; the figure links to its `path`. */
export function toMarkdown(blocks: Block[]): string {
  return markdownBlocks(blocks) + "\n";
}

function markdownBlocks(blocks: Block[]): string {
  const parts = blocks.map((block): string => {
    switch (block.type) {
      case "list":
        return block.items.map((item) => `- ${item}`).join("\n");
      case "details":
        // GitHub renders the HTML fold; the Markdown inside needs the blank lines around it.
        return `<details>\n<summary>${escapeHtml(block.summary)}</summary>\n\n` +
          markdownBlocks(block.blocks) + "\n\n</details>";
      case "heading":
        return `${"#".repeat(block.level)} ${block.text}`;
      case "paragraph":
        return block.text;
      case "table": {
        checkTable(block);
        const head = `| ${block.headers.map(mdCell).join(" | ")} |`;
        const rule = `| ${
          block.headers.map((_, i) => block.numeric?.[i] ? "---:" : "---").join(" | ")
        } |`;
        const body = block.rows.map((row) => `| ${row.map(mdCell).join(" | ")} |`);
        return [head, rule, ...body].join("\n");
      }
      case "figure":
        return `![${block.alt}](${block.path})`;
      case "code":
        return "```\n" + block.text + "\n```";
    }
  });
  return parts.join("\n\n");
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/** Renders the inline Markdown the report uses (`code` and **bold**) as HTML. */
function inlineHtml(text: string): string {
  return escapeHtml(text)
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>");
}

const STYLE =
  `body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;max-width:72rem;margin:2rem auto;
padding:0 1rem;color:#222;line-height:1.45}table{border-collapse:collapse;margin:1rem 0}
th,td{border:1px solid #ccc;padding:.25rem .6rem}th{background:#f3f3f3}td.n{text-align:right;
font-variant-numeric:tabular-nums}code,pre{font-family:"DejaVu Sans Mono",monospace;font-size:.9em}
pre{background:#f6f6f6;padding:.6rem;white-space:pre-wrap;overflow-wrap:anywhere}img{max-width:100%}`;

/** The blocks as one HTML page with no external resources (the figure is a data URI). */
export function toHtml(blocks: Block[], title: string): string {
  return `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n` +
    `<title>${escapeHtml(title)}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n` +
    htmlBlocks(blocks) + "\n</body>\n</html>\n";
}

function htmlBlocks(blocks: Block[]): string {
  const body = blocks.map((block): string => {
    switch (block.type) {
      case "list":
        return `<ul>\n${block.items.map((i) => `<li>${inlineHtml(i)}</li>`).join("\n")}\n</ul>`;
      case "details":
        return `<details>\n<summary>${inlineHtml(block.summary)}</summary>\n` +
          htmlBlocks(block.blocks) + "\n</details>";
      case "heading":
        return `<h${block.level}>${inlineHtml(block.text)}</h${block.level}>`;
      case "paragraph":
        return `<p>${inlineHtml(block.text)}</p>`;
      case "table": {
        checkTable(block);
        const head = block.headers.map((h) => `<th>${inlineHtml(h)}</th>`).join("");
        const rows = block.rows.map((row) =>
          "<tr>" +
          row.map((cell, i) =>
            block.numeric?.[i]
              ? `<td class="n">${inlineHtml(cell)}</td>`
              : `<td>${inlineHtml(cell)}</td>`
          ).join("") +
          "</tr>"
        );
        return `<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${
          rows.join("\n")
        }\n</tbody>\n</table>`;
      }
      case "figure":
        return `<figure><img src="${block.dataUri}" alt="${escapeHtml(block.alt)}"></figure>`;
      case "code":
        return `<pre>${escapeHtml(block.text)}</pre>`;
    }
  });
  return body.join("\n");
}
