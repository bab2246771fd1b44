"""The catalogue over HTTP: items, their columns and the code tables, for department systems."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from xinyong.accounts.access import Principal, require
from xinyong.catalogue.schemas import CatalogueOut, CodeTableOut, CodeValueOut, FieldOut, ItemOut
from xinyong.catalogue.service import get_catalogue

router = APIRouter(tags=["信息资源目录"])


@router.get(
    "/catalogue",
    response_model=CatalogueOut,
    summary="信息资源目录：信息项、列和代码表",
    description="报送文件的列名、类型、是否必填、代码表、公开属性和也接受的列名（与工作台“信息资源目录”页相同）。",
)
def catalogue(principal: Principal = Depends(require("catalogue.read"))) -> CatalogueOut:
    cat = get_catalogue()
    return CatalogueOut(
        items=[
            ItemOut(
                key=item.key, code=item.code, title=item.title, category=item.category, valence=item.valence,
                identity=list(item.identity), layouts=list(item.layouts),
                fields=[
                    FieldOut(key=f.key, label=f.label, type=f.type, required=f.required, code_table=f.code_table,
                             disclosure=f.disclosure.value, max_length=f.max_length, unit=f.unit,
                             standard_code=f.standard_code, aliases=list(f.aliases),
                             unit_headers=dict(f.unit_headers), registered_by=list(f.registered_by),
                             amount_of=list(f.amount_of), period_headers=list(f.period_headers),
                             period_start=f.period_start)
                    for f in item.template_fields
                ],
            )
            for item in cat.items.values()
        ],
        code_tables=[
            CodeTableOut(name=t.name, title=t.title,
                         values=[CodeValueOut(value=v.value, label=v.label, aliases=list(v.aliases)) for v in t.values])
            for t in cat.code_tables.values()
        ],
    )
