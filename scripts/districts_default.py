"""Make the project's built-in district geometry: a simplified copy of Warsaw's official boundaries.

    python scripts/districts_default.py [--source ../shared/data/warsaw-districts.geojson] [--tolerance 0.0004]

Source: the official boundaries of Warsaw's 18 districts (dzielnice), public administrative data, as
published in the repository andilabs/warszawa-dzielnice-geojson. The shapes are simplified together
(`shapely.coverage_simplify`, so neighbouring districts keep one shared border: no gaps, no overlaps)
and rounded to 1e-5 degrees (about 1 m); the result is written to hvaccrm/data/districts_default.geojson,
which `hvaccrm.geo.default_geometries` reads. `manage.py load_districts` still loads the exact file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")

SOURCE_NOTE = ("Simplified copy of the official boundaries of Warsaw's districts (public administrative data), "
               "from andilabs/warszawa-dzielnice-geojson, made by scripts/districts_default.py")


def simplified(source: Path, tolerance: float) -> dict:
    import shapely
    from shapely.geometry import MultiPolygon, Polygon, mapping

    from mapping.services.districts import districts_parse  # validates names and geometry

    geoms = districts_parse(data=json.loads(source.read_text(encoding="utf-8")))
    slugs = sorted(geoms)
    simple = shapely.coverage_simplify([geoms[s] for s in slugs], tolerance, simplify_boundary=True)
    features = []
    for slug, geom in zip(slugs, simple, strict=True):
        geom = shapely.make_valid(shapely.set_precision(geom, 1e-5))
        if not isinstance(geom, MultiPolygon):
            parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon)]
            geom = MultiPolygon(parts)
        features.append({"type": "Feature", "properties": {"slug": slug}, "geometry": mapping(geom)})
    return {"type": "FeatureCollection", "metadata": {"source": SOURCE_NOTE, "tolerance_deg": tolerance},
            "features": features}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "data" / "warsaw-districts.geojson")
    parser.add_argument("--tolerance", type=float, default=0.0004, help="degrees (0.0004 ~ 30-45 m)")
    parser.add_argument("--out", type=Path, default=ROOT / "hvaccrm" / "data" / "districts_default.geojson")
    args = parser.parse_args()
    import django

    django.setup()
    data = simplified(args.source, args.tolerance)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"{args.out}: {len(data['features'])} districts, {len(text):,} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
