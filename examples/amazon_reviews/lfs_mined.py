"""N-gram LFs mined from the 300 dev rows by mine_lfs.py (labelfns.reviews.lfs_from_sample),
then reviewed by hand: the lines in mine_lfs.REVIEWED_OUT were deleted.

Each comment gives the LF's evidence on the dev sample: right votes / all votes =
precision (and the 95% Wilson lower bound).

Classes without dev rows (nothing to mine): gourmet gifts, sauces dips, cooking baking supplies,
fresh flowers live indoor plants, herbs, meat seafood, baby food, grown up toys, novelty gag
toys, baby child care, gifts, car seats accessories, strollers, pregnancy maternity, small
animals.
"""

from labelfns import keyword_lf

MINED = [
    # -- beverages ---------------------------------------------------
    # 3/4 = 0.75 on the sample (Wilson low 0.30)
    keyword_lf("ng_title_beverages__tea", ["tea"], "beverages", fields=["Title"]),
    # -- puzzles -----------------------------------------------------
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_puzzles__puzzle", ["puzzle"], "puzzles", fields=["Title"]),
    # -- stuffed animals plush ---------------------------------------
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf(
        "ng_title_stuffed_animals_plush__beanie_babies",
        ["beanie babies"],
        "stuffed animals plush",
        fields=["Title"],
    ),
    # -- building toys -----------------------------------------------
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_building_toys__lego", ["lego"], "building toys", fields=["Title"]),
    # -- makeup ------------------------------------------------------
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_makeup__nail_polish", ["nail polish"], "makeup", fields=["Title"]),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_makeup__essie", ["essie"], "makeup", fields=["Title"]),
    # 3/4 = 0.75 on the sample (Wilson low 0.30)
    keyword_lf("ng_title_makeup__nail", ["nail"], "makeup", fields=["Title"]),
    # -- skin care ---------------------------------------------------
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_skin_care__skin_care", ["skin care"], "skin care", fields=["Title"]),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_skin_care__cleansing", ["cleansing"], "skin care", fields=["Title"]),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_skin_care__facial", ["facial"], "skin care", fields=["Title"]),
    # -- hair care ---------------------------------------------------
    # 3/3 = 1.00 on the sample (Wilson low 0.44)
    keyword_lf("ng_title_hair_care__conditioner", ["conditioner"], "hair care", fields=["Title"]),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_hair_care__babyliss_pro", ["babyliss pro"], "hair care", fields=["Title"]),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_hair_care__light_brown", ["light brown"], "hair care", fields=["Title"]),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_hair_care__ceramic", ["ceramic"], "hair care", fields=["Title"]),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_hair_care__conditioning", ["conditioning"], "hair care", fields=["Title"]),
    # 6/6 = 1.00 on the sample (Wilson low 0.61)
    keyword_lf("ng_text_hair_care__curly", ["curly"], "hair care", fields=["Text"]),
    # 5/5 = 1.00 on the sample (Wilson low 0.57)
    keyword_lf("ng_text_hair_care__conditioner", ["conditioner"], "hair care", fields=["Text"]),
    # 3/3 = 1.00 on the sample (Wilson low 0.44)
    keyword_lf("ng_text_hair_care__comb", ["comb"], "hair care", fields=["Text"]),
    # 3/3 = 1.00 on the sample (Wilson low 0.44)
    keyword_lf("ng_text_hair_care__curls", ["curls"], "hair care", fields=["Text"]),
    # -- fragrance ---------------------------------------------------
    # 6/6 = 1.00 on the sample (Wilson low 0.61)
    keyword_lf("ng_title_fragrance__eau", ["eau"], "fragrance", fields=["Title"]),
    # 3/3 = 1.00 on the sample (Wilson low 0.44)
    keyword_lf("ng_title_fragrance__calvin_klein", ["calvin klein"], "fragrance", fields=["Title"]),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf(
        "ng_title_fragrance__personal_fragrances",
        ["personal fragrances"],
        "fragrance",
        fields=["Title"],
    ),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_fragrance__perfume", ["perfume"], "fragrance", fields=["Title"]),
    # 4/4 = 1.00 on the sample (Wilson low 0.51)
    keyword_lf("ng_text_fragrance__perfume", ["perfume"], "fragrance", fields=["Text"]),
    # -- personal care -----------------------------------------------
    # 3/3 = 1.00 on the sample (Wilson low 0.44)
    keyword_lf("ng_title_personal_care__heads", ["heads"], "personal care", fields=["Title"]),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_personal_care__blades", ["blades"], "personal care", fields=["Title"]),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_personal_care__razor", ["razor"], "personal care", fields=["Title"]),
    # -- nutrition wellness ------------------------------------------
    # 3/3 = 1.00 on the sample (Wilson low 0.44)
    keyword_lf("ng_title_nutrition_wellness__optimum", ["optimum"], "nutrition wellness", fields=["Title"]),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf(
        "ng_title_nutrition_wellness__cranberry",
        ["cranberry"],
        "nutrition wellness",
        fields=["Title"],
    ),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf(
        "ng_title_nutrition_wellness__magnesium",
        ["magnesium"],
        "nutrition wellness",
        fields=["Title"],
    ),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf(
        "ng_title_nutrition_wellness__nutrition",
        ["nutrition"],
        "nutrition wellness",
        fields=["Title"],
    ),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_nutrition_wellness__solaray", ["solaray"], "nutrition wellness", fields=["Title"]),
    # 3/3 = 1.00 on the sample (Wilson low 0.44)
    keyword_lf("ng_text_nutrition_wellness__vitamins", ["vitamins"], "nutrition wellness", fields=["Text"]),
    # -- household supplies ------------------------------------------
    # 5/5 = 1.00 on the sample (Wilson low 0.57)
    keyword_lf(
        "ng_title_household_supplies__batteries",
        ["batteries"],
        "household supplies",
        fields=["Title"],
    ),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_household_supplies__battery", ["battery"], "household supplies", fields=["Title"]),
    # -- health care -------------------------------------------------
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_health_care__heating_pad", ["heating pad"], "health care", fields=["Title"]),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_health_care__nicorette_gum", ["nicorette gum"], "health care", fields=["Title"]),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_health_care__heel", ["heel"], "health care", fields=["Title"]),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_health_care__massage", ["massage"], "health care", fields=["Title"]),
    # 3/3 = 1.00 on the sample (Wilson low 0.44)
    keyword_lf("ng_text_health_care__heel", ["heel"], "health care", fields=["Text"]),
    # -- medical supplies equipment ----------------------------------
    # 3/3 = 1.00 on the sample (Wilson low 0.44)
    keyword_lf(
        "ng_title_medical_supplies_equipment__knee",
        ["knee"],
        "medical supplies equipment",
        fields=["Title"],
    ),
    # -- sexual wellness ---------------------------------------------
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_sexual_wellness__doc_johnson", ["doc johnson"], "sexual wellness", fields=["Title"]),
    # -- diapering ---------------------------------------------------
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_diapering__dry_diapers", ["dry diapers"], "diapering", fields=["Title"]),
    # 6/6 = 1.00 on the sample (Wilson low 0.61)
    keyword_lf("ng_text_diapering__diapers", ["diapers"], "diapering", fields=["Text"]),
    # 5/5 = 1.00 on the sample (Wilson low 0.57)
    keyword_lf("ng_text_diapering__pampers", ["pampers"], "diapering", fields=["Text"]),
    # -- nursery -----------------------------------------------------
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_nursery__blanket", ["blanket"], "nursery", fields=["Title"]),
    # -- cats --------------------------------------------------------
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_cats__cat_toy", ["cat toy"], "cats", fields=["Title"]),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_cats__laser_pet", ["laser pet"], "cats", fields=["Title"]),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_cats__refills", ["refills"], "cats", fields=["Title"]),
    # 5/5 = 1.00 on the sample (Wilson low 0.57)
    keyword_lf("ng_text_cats__cats", ["cats"], "cats", fields=["Text"]),
    # 10/13 = 0.77 on the sample (Wilson low 0.50)
    keyword_lf("ng_text_cats__cat", ["cat"], "cats", fields=["Text"]),
    # -- dogs --------------------------------------------------------
    # 13/13 = 1.00 on the sample (Wilson low 0.77)
    keyword_lf("ng_title_dogs__dog", ["dog"], "dogs", fields=["Title"]),
    # 3/3 = 1.00 on the sample (Wilson low 0.44)
    keyword_lf("ng_title_dogs__leash", ["leash"], "dogs", fields=["Title"]),
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_dogs__lead", ["lead"], "dogs", fields=["Title"]),
    # 3/3 = 1.00 on the sample (Wilson low 0.44)
    keyword_lf("ng_text_dogs__treats", ["treats"], "dogs", fields=["Text"]),
    # -- fish aquatic pets -------------------------------------------
    # 2/2 = 1.00 on the sample (Wilson low 0.34)
    keyword_lf("ng_title_fish_aquatic_pets__aquaclear", ["aquaclear"], "fish aquatic pets", fields=["Title"]),
    # 3/3 = 1.00 on the sample (Wilson low 0.44)
    keyword_lf("ng_text_fish_aquatic_pets__filter", ["filter"], "fish aquatic pets", fields=["Text"]),
]
