"""Write ``lfs_mined.py``: discriminative n-grams mined from the 300-row dev sample.

Run from this folder (``python mine_lfs.py``). Only the dev rows' labels are read. The output is a
first draft: read it, delete the lines that look like coincidences, and keep the rest (the
committed ``lfs_mined.py`` is the reviewed version; see ``REVIEWED_OUT`` below).
"""

import textwrap
from pathlib import Path

from labelfns.reviews import lfs_from_sample, write_lf_module
from weak_supervision.project import load_project

HERE = Path(__file__).resolve().parent

# n-grams deleted after reading the draft: true on the sample by coincidence (a reviewer's
# phrasing, a brand sold in several categories), or too generic to transfer.
REVIEWED_OUT = {
    # words of other categories too ("body" lotion, hair "spray", puzzle "pieces", razors "for men")
    "ng_title_candy_chocolate__pounds", "ng_title_building_toys__pieces", "ng_title_skin_care__rose",
    "ng_title_skin_care__body", "ng_title_fragrance__men", "ng_title_fragrance__spray",
    "ng_title_personal_care__replacement", "ng_text_nutrition_wellness__body",
    "ng_text_nutrition_wellness__doctor", "ng_title_medical_supplies_equipment__wrap",
    "ng_title_medical_supplies_equipment__protector", "ng_title_dogs__training",
    "ng_text_dogs__training",
    # brands or listing quirks that sell in several categories
    "ng_title_hair_care__select_option", "ng_title_cats__bergan", "ng_title_cats__petsafe",
}


def main() -> None:
    project = load_project(HERE)
    dev = project.data[project.dev_mask].copy()
    dev["label"] = [project.labels[i] for i in project.y_dev[project.dev_mask]]
    title = lfs_from_sample(dev, project.labels, "label", text_fields=["Title"], min_count=2,
                            min_precision=0.75, max_per_class=6, prefix="ng_title_")
    text = lfs_from_sample(dev, project.labels, "label", text_fields=["Text"], min_count=3,
                           min_precision=0.75, max_per_class=4, prefix="ng_text_")
    lfs = [lf for lf in (*title.lfs, *text.lfs) if lf.name not in REVIEWED_OUT]
    notes = {e.name: e.comment() for e in (*title.evidence, *text.evidence)}
    missing = textwrap.fill("Classes without dev rows (nothing to mine): "
                            + ", ".join(title.missing_classes) + ".", width=96)
    header = (
        "N-gram LFs mined from the 300 dev rows by mine_lfs.py (labelfns.reviews.lfs_from_sample),\n"
        "then reviewed by hand: the lines in mine_lfs.REVIEWED_OUT were deleted.\n\n"
        "Each comment gives the LF's evidence on the dev sample: right votes / all votes =\n"
        f"precision (and the 95% Wilson lower bound).\n\n{missing}\n")
    write_lf_module(lfs, HERE / "lfs_mined.py", evidence=notes, header=header, variable="MINED")


if __name__ == "__main__":
    main()
