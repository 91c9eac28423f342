"""The Ecommerce group's catalogue: the workspace's shop, for keys with Manage Team.

Products and their variants are in `catalog_product_routes`; this router includes them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from konversation.commerce import catalog, catalog_discounts, catalog_places
from konversation.commerce.catalog_product_routes import router as product_router
from konversation.commerce.catalog_wire import (
    BusinessHoursIn,
    CreateDiscountIn,
    CreateLocationIn,
    DayOut,
    DiscountCodeOut,
    LocationOut,
    ProductTagOut,
    ProductTypeOut,
    ProductVendorOut,
    ShopNameIn,
    ShopRenameIn,
    UpdateDiscountIn,
    UpdateLocationIn,
)
from konversation.commerce.models import ProductTag, ProductType, ProductVendor
from konversation.wire import envelope
from konversation.wire.auth import ManageTeam
from konversation.wire.envelope import DataOut, ListOut, OkOut, PageOut
from konversation.wire.errors import wire_errors
from konversation.wire.params import PageParams
from konversation.wire.session import Session

router = APIRouter(tags=["Ecommerce"])

LIST = wire_errors(401, 403, 422)
READ = wire_errors(401, 403, 404, 422)
# A create or rename can lose a race for a unique name to a concurrent one: 409, retry.
CREATE = wire_errors(401, 403, 409, 422)
UPDATE = wire_errors(401, 403, 404, 409, 422)
DELETE = wire_errors(401, 403, 404, 422)

NameFilter = Annotated[str | None, Query(description="Only items whose name contains this.")]
TypeId = Annotated[int, Path(alias="typeId", description="The product type's id.")]
VendorId = Annotated[int, Path(alias="vendorId", description="The vendor's id.")]
TagId = Annotated[int, Path(alias="tagId", description="The product tag's id.")]
LocationId = Annotated[int, Path(alias="locationId", description="The location's id.")]
CodeId = Annotated[int, Path(alias="codeId", description="The discount code's id.")]
CodeParam = Annotated[str, Query(description="The code, exactly as created.", max_length=255)]

# ---------------------------------------------------------------------------------------------
# Product types


@router.get("/shop/product-types", responses=LIST, summary="List product types")
async def shop_product_types(
    key: ManageTeam, session: Session, paging: PageParams, name: NameFilter = None
) -> PageOut[ProductTypeOut]:
    items, total = await catalog.list_named(
        session, ProductType, key.workspace_id, name=name, window=paging
    )
    return envelope.page([ProductTypeOut.of(i) for i in items], total=total, window=paging)


@router.post(
    "/shop/product-types/create",
    responses=CREATE,
    summary="Create a product type",
    description="Type names are unique in the workspace; a name in use answers 422.",
)
async def shop_create_product_type(
    body: ShopNameIn, key: ManageTeam, session: Session
) -> DataOut[ProductTypeOut]:
    item = await catalog.create_named(session, ProductType, key.workspace_id, name=body.name)
    return envelope.one(ProductTypeOut.of(item))


@router.get("/shop/product-types/{typeId}/get-info", responses=READ, summary="Get a product type")
async def shop_product_type(
    type_id: TypeId, key: ManageTeam, session: Session
) -> DataOut[ProductTypeOut]:
    item = await catalog.get_named(session, ProductType, key.workspace_id, type_id)
    return envelope.one(ProductTypeOut.of(item))


@router.put(
    "/shop/product-types/{typeId}/update", responses=UPDATE, summary="Rename a product type"
)
async def shop_update_product_type(
    type_id: TypeId, body: ShopRenameIn, key: ManageTeam, session: Session
) -> DataOut[ProductTypeOut]:
    item = await _rename(session, ProductType, key.workspace_id, type_id, body)
    return envelope.one(ProductTypeOut.of(item))


@router.delete(
    "/shop/product-types/{typeId}/delete",
    responses=DELETE,
    summary="Delete a product type",
    description="Its products stay, without a type.",
)
async def shop_delete_product_type(type_id: TypeId, key: ManageTeam, session: Session) -> OkOut:
    await catalog.delete_named(session, ProductType, key.workspace_id, type_id)
    return envelope.ok()


# ---------------------------------------------------------------------------------------------
# Vendors


@router.get("/shop/product-vendors", responses=LIST, summary="List vendors")
async def shop_product_vendors(
    key: ManageTeam, session: Session, paging: PageParams, name: NameFilter = None
) -> PageOut[ProductVendorOut]:
    items, total = await catalog.list_named(
        session, ProductVendor, key.workspace_id, name=name, window=paging
    )
    return envelope.page([ProductVendorOut.of(i) for i in items], total=total, window=paging)


@router.post(
    "/shop/product-vendors/create",
    responses=CREATE,
    summary="Create a vendor",
    description="Vendor names are unique in the workspace; a name in use answers 422.",
)
async def shop_create_product_vendor(
    body: ShopNameIn, key: ManageTeam, session: Session
) -> DataOut[ProductVendorOut]:
    item = await catalog.create_named(session, ProductVendor, key.workspace_id, name=body.name)
    return envelope.one(ProductVendorOut.of(item))


@router.get("/shop/product-vendors/{vendorId}/get-info", responses=READ, summary="Get a vendor")
async def shop_product_vendor(
    vendor_id: VendorId, key: ManageTeam, session: Session
) -> DataOut[ProductVendorOut]:
    item = await catalog.get_named(session, ProductVendor, key.workspace_id, vendor_id)
    return envelope.one(ProductVendorOut.of(item))


@router.put("/shop/product-vendors/{vendorId}/update", responses=UPDATE, summary="Rename a vendor")
async def shop_update_product_vendor(
    vendor_id: VendorId, body: ShopRenameIn, key: ManageTeam, session: Session
) -> DataOut[ProductVendorOut]:
    item = await _rename(session, ProductVendor, key.workspace_id, vendor_id, body)
    return envelope.one(ProductVendorOut.of(item))


@router.delete(
    "/shop/product-vendors/{vendorId}/delete",
    responses=DELETE,
    summary="Delete a vendor",
    description="Its products stay, without a vendor.",
)
async def shop_delete_product_vendor(
    vendor_id: VendorId, key: ManageTeam, session: Session
) -> OkOut:
    await catalog.delete_named(session, ProductVendor, key.workspace_id, vendor_id)
    return envelope.ok()


# ---------------------------------------------------------------------------------------------
# Product tags


@router.get("/shop/product-tags", responses=LIST, summary="List product tags")
async def shop_product_tags(
    key: ManageTeam, session: Session, paging: PageParams, name: NameFilter = None
) -> PageOut[ProductTagOut]:
    items, total = await catalog.list_named(
        session, ProductTag, key.workspace_id, name=name, window=paging
    )
    return envelope.page([ProductTagOut.of(i) for i in items], total=total, window=paging)


@router.post(
    "/shop/product-tags/create",
    responses=CREATE,
    summary="Create a product tag",
    description="Product tags are the shop's own, apart from the bots' subscriber tags. "
    "Names are unique in the workspace; a name in use answers 422.",
)
async def shop_create_product_tag(
    body: ShopNameIn, key: ManageTeam, session: Session
) -> DataOut[ProductTagOut]:
    item = await catalog.create_named(session, ProductTag, key.workspace_id, name=body.name)
    return envelope.one(ProductTagOut.of(item))


@router.get("/shop/product-tags/{tagId}/get-info", responses=READ, summary="Get a product tag")
async def shop_product_tag(
    tag_id: TagId, key: ManageTeam, session: Session
) -> DataOut[ProductTagOut]:
    item = await catalog.get_named(session, ProductTag, key.workspace_id, tag_id)
    return envelope.one(ProductTagOut.of(item))


@router.put("/shop/product-tags/{tagId}/update", responses=UPDATE, summary="Rename a product tag")
async def shop_update_product_tag(
    tag_id: TagId, body: ShopRenameIn, key: ManageTeam, session: Session
) -> DataOut[ProductTagOut]:
    item = await _rename(session, ProductTag, key.workspace_id, tag_id, body)
    return envelope.one(ProductTagOut.of(item))


@router.delete(
    "/shop/product-tags/{tagId}/delete",
    responses=DELETE,
    summary="Delete a product tag",
    description="The tag is also taken off every product that had it.",
)
async def shop_delete_product_tag(tag_id: TagId, key: ManageTeam, session: Session) -> OkOut:
    await catalog.delete_named(session, ProductTag, key.workspace_id, tag_id)
    return envelope.ok()


async def _rename(
    session: Session,
    model: type[catalog.Named],
    workspace_id: int,
    item_id: int,
    body: ShopRenameIn,
) -> catalog.Named:
    if body.name is None:  # nothing to change; still a 404 for an unknown id
        return await catalog.get_named(session, model, workspace_id, item_id)
    return await catalog.rename_named(session, model, workspace_id, item_id, name=body.name)


# ---------------------------------------------------------------------------------------------
# Locations


@router.get("/shop/locations", responses=LIST, summary="List the shop's locations")
async def shop_locations(
    key: ManageTeam, session: Session, paging: PageParams, name: NameFilter = None
) -> PageOut[LocationOut]:
    items, total = await catalog_places.list_locations(
        session, key.workspace_id, name=name, window=paging
    )
    return envelope.page([LocationOut.of(i) for i in items], total=total, window=paging)


@router.post(
    "/shop/locations/create",
    responses=wire_errors(401, 403, 422),
    summary="Create a location",
    description="A store or pickup point, with its address and coordinates.",
)
async def shop_create_location(
    body: CreateLocationIn, key: ManageTeam, session: Session
) -> DataOut[LocationOut]:
    location = await catalog_places.create_location(session, key.workspace_id, body.fields())
    return envelope.one(LocationOut.of(location))


@router.get("/shop/locations/{locationId}/get-info", responses=READ, summary="Get a location")
async def shop_location(
    location_id: LocationId, key: ManageTeam, session: Session
) -> DataOut[LocationOut]:
    location = await catalog_places.get_location(session, key.workspace_id, location_id)
    return envelope.one(LocationOut.of(location))


@router.put(
    "/shop/locations/{locationId}/update",
    responses=READ,
    summary="Change a location",
    description="Only the fields sent change.",
)
async def shop_update_location(
    location_id: LocationId, body: UpdateLocationIn, key: ManageTeam, session: Session
) -> DataOut[LocationOut]:
    location = await catalog_places.update_location(
        session, key.workspace_id, location_id, body.fields()
    )
    return envelope.one(LocationOut.of(location))


@router.delete("/shop/locations/{locationId}/delete", responses=DELETE, summary="Delete a location")
async def shop_delete_location(location_id: LocationId, key: ManageTeam, session: Session) -> OkOut:
    await catalog_places.delete_location(session, key.workspace_id, location_id)
    return envelope.ok()


# ---------------------------------------------------------------------------------------------
# Business hours


@router.get(
    "/shop/business-hours/info",
    responses=LIST,
    summary="The shop's weekly hours",
    description="All seven days, Monday (`id` 1) first. A shop that never set its hours is "
    "open all day, every day.",
)
async def shop_business_hours(key: ManageTeam, session: Session) -> ListOut[DayOut]:
    days = await catalog_places.business_hours(session, key.workspace_id)
    return ListOut(data=[DayOut.of(day) for day in days])


@router.put(
    "/shop/business-hours/update",
    responses=wire_errors(401, 403, 409, 422),
    summary="Change the shop's weekly hours",
    description="Each item names a day by `id` (1 is Monday, 7 Sunday) or by `name`; days not "
    "named keep their hours, and fields not sent keep their values. Times are `HH:MM` on a "
    "quarter hour; an end may be `24:00`. Answers all seven days.",
)
async def shop_update_business_hours(
    body: BusinessHoursIn, key: ManageTeam, session: Session
) -> ListOut[DayOut]:
    days = await catalog_places.update_business_hours(
        session, key.workspace_id, [day.change() for day in body.data]
    )
    return ListOut(data=[DayOut.of(day) for day in days])


# ---------------------------------------------------------------------------------------------
# Discount codes

_TIMES = "`start_time` and `end_time` are `YYYY-MM-DD HH:MM:SS` in the workspace's timezone."


@router.get("/shop/discount-codes", responses=LIST, summary="List discount codes")
async def shop_discount_codes(
    key: ManageTeam,
    session: Session,
    paging: PageParams,
    code: Annotated[str | None, Query(description="Only codes containing this.")] = None,
) -> PageOut[DiscountCodeOut]:
    shop = await catalog.load_shop(session, key.workspace_id)
    codes, total = await catalog_discounts.list_codes(
        session, key.workspace_id, code=code, window=paging
    )
    return envelope.page([DiscountCodeOut.of(c, shop) for c in codes], total=total, window=paging)


@router.post(
    "/shop/discount-codes/create",
    responses=CREATE,
    summary="Create a discount code",
    description="A `percentage` code needs `discount_percentage`, an `amount` code "
    "`discount_amount`; `free_shipping` needs neither. `min_require` `price` needs `min_price`, "
    "`qty` needs `min_qty`; `has_usage_limit` needs `max_usage_count`. Codes are unique in the "
    f"workspace (a code in use answers 422). {_TIMES}",
)
async def shop_create_discount_code(
    body: CreateDiscountIn, key: ManageTeam, session: Session
) -> DataOut[DiscountCodeOut]:
    shop = await catalog.load_shop(session, key.workspace_id)
    code = await catalog_discounts.create_code(session, shop, body.given())
    return envelope.one(DiscountCodeOut.of(code, shop))


@router.get(
    "/shop/discount-codes/get-info-by-code", responses=READ, summary="Get a discount code by code"
)
async def shop_discount_code_by_code(
    code: CodeParam, key: ManageTeam, session: Session
) -> DataOut[DiscountCodeOut]:
    shop = await catalog.load_shop(session, key.workspace_id)
    found = await catalog_discounts.get_code_by_code(session, key.workspace_id, code)
    return envelope.one(DiscountCodeOut.of(found, shop))


@router.get("/shop/discount-codes/{codeId}/get-info", responses=READ, summary="Get a discount code")
async def shop_discount_code(
    code_id: CodeId, key: ManageTeam, session: Session
) -> DataOut[DiscountCodeOut]:
    shop = await catalog.load_shop(session, key.workspace_id)
    found = await catalog_discounts.get_code(session, key.workspace_id, code_id)
    return envelope.one(DiscountCodeOut.of(found, shop))


@router.put(
    "/shop/discount-codes/{codeId}/update",
    responses=UPDATE,
    summary="Change a discount code",
    description="Only the fields sent change; the code must still be whole afterwards (an "
    f"`amount` code keeps a `discount_amount`, and so on). {_TIMES}",
)
async def shop_update_discount_code(
    code_id: CodeId, body: UpdateDiscountIn, key: ManageTeam, session: Session
) -> DataOut[DiscountCodeOut]:
    shop = await catalog.load_shop(session, key.workspace_id)
    code = await catalog_discounts.update_code(session, shop, code_id, body.given())
    return envelope.one(DiscountCodeOut.of(code, shop))


@router.delete(
    "/shop/discount-codes/delete-by-code",
    responses=DELETE,
    summary="Delete a discount code by code",
    description="Orders that used the code keep its text.",
)
async def shop_delete_discount_code_by_code(
    code: CodeParam, key: ManageTeam, session: Session
) -> OkOut:
    await catalog_discounts.delete_code_by_code(session, key.workspace_id, code)
    return envelope.ok()


@router.delete(
    "/shop/discount-codes/{codeId}/delete",
    responses=DELETE,
    summary="Delete a discount code",
    description="Orders that used the code keep its text.",
)
async def shop_delete_discount_code(code_id: CodeId, key: ManageTeam, session: Session) -> OkOut:
    await catalog_discounts.delete_code(session, key.workspace_id, code_id)
    return envelope.ok()


router.include_router(product_router)
