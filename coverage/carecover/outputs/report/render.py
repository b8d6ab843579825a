"""The report's sections as Markdown (pictures linked beside it) and as one self-contained HTML
page: pictures embedded as data URIs (an e-mailed ``report.html`` carries everything), a table of
contents, and a print stylesheet (A4, the summary on its own page, tables and figures not split)."""

from __future__ import annotations

import base64
import html
from typing import Any

from carecover.outputs.report.document import Image, Para, Section, Table

_CSS = """
body{font-family:'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif;
max-width:1100px;margin:1.5em auto;padding:0 1em;color:#222;line-height:1.5}
h1{font-size:1.55em;margin:.2em 0}h2{font-size:1.25em;border-bottom:2px solid #1f77b4;padding-bottom:2px;margin-top:1.8em}
h3{font-size:1.05em;margin:1.2em 0 .3em}
.sub{color:#666;font-size:13px;margin:0 0 1em}
nav.toc{font-size:13px;background:#f6f8fa;border:1px solid #e1e4e8;padding:.4em .8em;margin:0 0 1em}
nav.toc a{margin-right:1.1em;white-space:nowrap;color:#1f5f9f;text-decoration:none}
section#summary{background:#fbfcfe;border:1px solid #dde6f0;padding:.2em 1em 1em;border-radius:4px}
section#summary h2{margin-top:.6em}
section#summary p{margin:.45em 0}
.tablewrap{overflow-x:auto}
table{border-collapse:collapse;margin:.5em 0 .3em;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#eef2f6}
td.pass{background:#dff0d8;font-weight:bold}td.fail{background:#f2dede;font-weight:bold}
.note{color:#666;font-size:12px;margin:.1em 0 1em}
p.en{color:#555;font-size:13px;margin-top:-.3em}
p.warn{background:#fff6db;border-left:4px solid #e0a800;padding:.3em .6em}
.pics{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start}
figure{margin:.8em 0 1.2em;flex:1 1 420px;text-align:center}
figure img{max-width:100%;max-height:85vh;height:auto;border:1px solid #e5e5e5}
figcaption{color:#555;font-size:12px}
code{background:#f5f5f5}
@page{size:A4;margin:13mm 11mm}
@media print{
body{max-width:none;margin:0;padding:0;font-size:10pt}
nav.toc{display:none}
section#summary{break-after:page;border:none;background:none;padding:0}
h2{break-after:avoid;margin-top:1em}h3{break-after:avoid}
figure,tr{break-inside:avoid}
figure img{max-height:235mm;width:auto;max-width:100%;border:none}
section#summary figure img{max-height:128mm}
.pics{display:block}section#summary .pics{display:flex;flex-wrap:nowrap}
thead{display:table-header-group}
table{font-size:8.5pt}.tablewrap{overflow:visible}
td.pass,td.fail,th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""


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
        # cells hold input text (names, addresses): isolated, so a bidi override stays in its cell
        return f"<td{cls}><bdi>{html.escape(s)}</bdi></td>"

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in t.columns)
    body = "".join("<tr>" + "".join(td(v) for v in r) + "</tr>" for r in t.rows)
    note = f"<p class='note'>{html.escape(t.note)}</p>" if t.note else ""
    return f"<div class='tablewrap'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{note}"


def html_image(img: Image) -> str:
    """A picture embedded as a PNG data URI, with its caption.

    Parameters
    ----------
    img
        The picture.

    Returns
    -------
    str
        HTML.
    """
    uri = "data:image/png;base64," + base64.b64encode(img.png).decode("ascii")
    cap = html.escape(img.caption)
    return (f"<figure><img src='{uri}' alt='{cap}' data-name='{html.escape(img.name)}'>"
            f"<figcaption>{cap}</figcaption></figure>")


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
            elif isinstance(blk, Image):
                md += [f"![{blk.caption}]({blk.name})", ""]
            elif isinstance(blk, Para):
                md += [f"_{blk.text}_" if blk.muted else blk.text, ""]
            else:
                md += [blk, ""]
    return "\n".join(md)


def _anchor(sec: Section, i: int) -> str:
    return html.escape(sec.key or f"s{i}")


def to_html(title: str, sections: list[Section], lang: str, subtitle: str = "") -> str:
    """The report as one self-contained HTML page.

    Parameters
    ----------
    title
        The report's title.
    sections
        Its sections.
    lang
        ``"zh"`` or ``"en"`` (the page's language).
    subtitle
        A line under the title ("" for none).

    Returns
    -------
    str
        HTML.
    """
    body = [f"<h1>{html.escape(title)}</h1>"]
    if subtitle:
        body.append(f"<p class='sub'>{html.escape(subtitle)}</p>")
    toc = "".join(f"<a href='#{_anchor(s, i)}'>{html.escape(s.title)}</a>" for i, s in enumerate(sections))
    body.append(f"<nav class='toc'>{toc}</nav>")
    for i, sec in enumerate(sections):
        part = [f"<section id='{_anchor(sec, i)}'><h2>{html.escape(sec.title)}</h2>"]
        pics: list[str] = []  # pictures in a row share it (side by side when there is room)
        for blk in sec.blocks:
            if isinstance(blk, Image):
                pics.append(html_image(blk))
                continue
            if pics:
                part.append(f"<div class='pics'>{''.join(pics)}</div>")
                pics = []
            if isinstance(blk, Table):
                part.append(html_table(blk))
            elif isinstance(blk, Para):
                cls = " class='en'" if blk.muted else ""
                part.append(f"<p{cls}>{html.escape(blk.text)}</p>")
            elif blk.startswith("### "):
                part.append(f"<h3>{html.escape(blk[4:])}</h3>")
            else:
                cls = " class='warn'" if blk.startswith("⚠") else ""
                part.append(f"<p{cls}>{html.escape(blk).replace('`', '')}</p>")
        if pics:
            part.append(f"<div class='pics'>{''.join(pics)}</div>")
        part.append("</section>")
        body.append("\n".join(part))
    return (f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")
