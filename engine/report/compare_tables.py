"""The tables of ``mutualsim compare`` in the formats actuaries open: CSV (full precision),
Markdown (numbers as people read them, :func:`engine.analysis.compare.plain`), Parquet
(pyarrow: typed columns for pandas, R and Spark) and Excel (openpyxl: a sheet per table,
frozen headers, yuan as whole numbers with thousands separators, probabilities as
percentages).

Each table is one row per scenario: its name, its swept values and every risk measure of
:data:`engine.analysis.compare.COLUMNS` with its s.e.; the Excel file adds the spread of each
risk measure across the scenarios (:func:`engine.analysis.compare.spread`).
"""

from __future__ import annotations

from pathlib import Path

from engine.analysis.compare import (
    COLUMNS,
    PROBABILITY_COLUMNS,
    Comparison,
    markdown_table,
    spread,
    write_tables,
)

FORMATS = ("csv", "md", "parquet", "xlsx")
DEFAULT_FORMATS = ("csv", "md")


def write_formats(comparison: Comparison, out_dir: Path, formats: tuple[str, ...]
                  ) -> list[Path]:
    """The table in every one of ``formats`` (:data:`FORMATS`) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if "csv" in formats or "md" in formats:
        csv_path, md_path = write_tables(comparison, out_dir)
        written += [p for p, f in ((csv_path, "csv"), (md_path, "md")) if f in formats]
        for p, f in ((csv_path, "csv"), (md_path, "md")):
            if f not in formats:
                p.unlink()
    if "parquet" in formats:
        written.append(_parquet(comparison, out_dir / "compare.parquet"))
    if "xlsx" in formats:
        written.append(_xlsx(comparison, out_dir / "compare.xlsx"))
    return written


def _columns(comparison: Comparison) -> list[str]:
    return ["scenario", *comparison.swept_keys, *(c for c, _ in COLUMNS)]


def _parquet(comparison: Comparison, path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = _columns(comparison)
    data = {c: [_cell(row[c]) for row in comparison.rows] for c in columns}
    table = pa.table(data)
    labels = dict(COLUMNS)
    table = table.replace_schema_metadata({c: labels.get(c, c) for c in columns})
    pq.write_table(table, path)
    return path


def _cell(value):
    if isinstance(value, (list, dict)):
        return str(value)
    return value.item() if hasattr(value, "item") else value


AMOUNT_FORMAT = "#,##0"
PERCENT_FORMAT = "0.000%"


def _xlsx(comparison: Comparison, path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "scenarios"
    columns = _columns(comparison)
    labels = dict(COLUMNS)
    sheet.append([labels.get(c, c) for c in columns])
    for row in comparison.rows:
        sheet.append([_cell(row[c]) for c in columns])
    for j, column in enumerate(columns, start=1):
        fmt = _number_format(column, labels)
        if fmt:
            for cells in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                cells[0].number_format = fmt
        sheet.column_dimensions[sheet.cell(1, j).column_letter].width = 16 if j > 1 else 40
    sheet.freeze_panes = "B2"
    across = book.create_sheet("spread across scenarios")
    across.append(["risk measure", "minimum", "lower quartile", "median", "upper quartile",
                   "maximum", "scenario at the minimum", "scenario at the maximum"])
    for metric, s in spread(comparison).items():
        across.append([labels[metric], s["min"], s["q25"], s["median"], s["q75"], s["max"],
                       s["lowest"], s["highest"]])
        fmt = _number_format(metric, labels)
        for cell in across[across.max_row][1:6]:
            cell.number_format = fmt or "0.000"
    across.freeze_panes = "B2"
    across.column_dimensions["A"].width = 40
    book.save(path)
    return path


def _number_format(column: str, labels: dict) -> str | None:
    if column in PROBABILITY_COLUMNS:
        return PERCENT_FORMAT
    if column in labels:
        return AMOUNT_FORMAT
    return None


def console_table(comparison: Comparison, limit: int = 20) -> str:
    """The Markdown table for a set of up to ``limit`` scenarios; for a larger set the
    spread of each risk measure across it (the files hold every row)."""
    if len(comparison.rows) <= limit:
        return markdown_table(comparison)
    from engine.analysis.compare import plain

    labels = dict(COLUMNS)
    lines = [f"{len(comparison.rows)} scenarios: each risk measure across them (the table "
             "of every scenario is in the files)", "",
             "| risk measure | minimum | lower quartile | median | upper quartile | maximum |",
             "|---|---|---|---|---|---|"]
    for metric, s in spread(comparison).items():
        cells = " | ".join(plain(s[k], metric) for k in ("min", "q25", "median", "q75", "max"))
        lines.append(f"| {labels[metric]} | {cells} |")
    return "\n".join(lines) + "\n"
