"""MkDocs hook: the CLI reference keeps the line breaks of each command's examples.

mkdocs-click writes a command's help text as Markdown, where the example lines that Click
prints one per line (its ``\\b`` blocks) would run together into one paragraph; this hook turns
each "Examples:" paragraph of the generated page back into a code block, one example a line.
"""

from __future__ import annotations

import re

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

PAGE = "reference/cli.md"
EXAMPLES = re.compile(r"<p>Examples:\n([^<]*)</p>")


def as_code(found: re.Match[str]) -> str:
    lines = "\n".join(line.strip() for line in found.group(1).splitlines() if line.strip())
    return (f'<p><strong>Examples:</strong></p>\n<div class="highlight"><pre><code>{lines}'
            "</code></pre></div>")


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if page.file.src_uri != PAGE:
        return html
    converted, count = EXAMPLES.subn(as_code, html)
    if count == 0:
        raise ValueError(f"{PAGE}: no 'Examples:' paragraph found to keep as code")
    return converted
