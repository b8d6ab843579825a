"""The report's sections as Markdown and as one HTML page."""

from __future__ import annotations

import html
from typing import Any

from carecover.outputs.report.document import Section, Table

_CSS = """body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222}table{border-collapse:collapse;margin:.5em 0 1em;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left}th{background:#f3f3f3}
td.pass{background:#dff0d8;font-weight:bold}td.fail{background:#f2dede;font-weight:bold}
.note{color:#666;font-size:12px}img{max-width:100%}code{background:#f5f5f5}"""


def md_table(t: Table) -> str:
    """A table in Markdown (pipes escaped, its note in italics below).

    Parameters
    ----------
    t
        The table.

    Returns
    -------
    str
        Markdown.
    """
    def esc(x: Any) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(esc(c) for c in t.columns) + " |", "|" + "---|" * len(t.columns)]
    lines += ["| " + " | ".join(esc(v) for v in r) + " |" for r in t.rows]
    if t.note:
        lines.append(f"\n_{t.note}_")
    return "\n".join(lines)


def html_table(t: Table) -> str:
    """A table in HTML (PASS/FAIL cells coloured, its note below).

    Parameters
    ----------
    t
        The table.

    Returns
    -------
    str
        HTML.
    """
    def td(v: Any) -> str:
        s = str(v)
        cls = " class='pass'" if s == "PASS" else " class='fail'" if s == "FAIL" else ""
        return f"<td{cls}>{html.escape(s)}</td>"

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in t.columns)
    body = "".join("<tr>" + "".join(td(v) for v in r) + "</tr>" for r in t.rows)
    note = f"<p class='note'>{html.escape(t.note)}</p>" if t.note else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"


def to_markdown(title: str, sections: list[Section]) -> str:
    """The report in Markdown.

    Parameters
    ----------
    title
        The report's title (level-1 heading).
    sections
        Its sections (level-2 headings).

    Returns
    -------
    str
        Markdown.
    """
    md = [f"# {title}", ""]
    for sec in sections:
        md += [f"## {sec.title}", ""]
        for blk in sec.blocks:
            if isinstance(blk, Table):
                md += [md_table(blk), ""]
            elif blk.startswith("img:"):
                name = blk[4:]
                md += [f"![{name}]({name})", ""]
            else:
                md += [blk, ""]
    return "\n".join(md)


def to_html(title: str, sections: list[Section], lang: str) -> str:
    """The report as one HTML page (images linked beside it).

    Parameters
    ----------
    title
        The report's title.
    sections
        Its sections.
    lang
        ``"zh"`` or ``"en"`` (the page's language).

    Returns
    -------
    str
        HTML.
    """
    body = [f"<h1>{html.escape(title)}</h1>"]
    for sec in sections:
        body.append(f"<h2>{html.escape(sec.title)}</h2>")
        for blk in sec.blocks:
            if isinstance(blk, Table):
                body.append(html_table(blk))
            elif blk.startswith("img:"):
                name = blk[4:]
                body.append(f"<p><img src='{html.escape(name)}' alt='{html.escape(name)}'></p>")
            else:
                body.append(f"<p>{html.escape(blk).replace('`', '')}</p>")
    return (f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")
