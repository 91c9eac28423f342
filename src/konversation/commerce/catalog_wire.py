"""The Connect API's shapes for the shop's catalogue, locations, hours and discount codes."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)

from konversation.commerce import money
from konversation.commerce.catalog import (
    NewProduct,
    ProductFields,
    ProductView,
    Shop,
    VariantFields,
)
from konversation.commerce.catalog_discounts import DiscountFields, describe, format_time
from konversation.commerce.catalog_places import Day, DayChange, LocationFields
from konversation.commerce.models import (
    DiscountCode,
    ProductTag,
    ProductType,
    ProductVariant,
    ProductVendor,
    ShopLocation,
)

# ---------------------------------------------------------------------------------------------
# Amounts and yes/no flags


def _json_amount(value: Decimal) -> int | float:
    # JSON has one number type; a float prints the exact decimal back for any price (its
    # shortest repr round-trips), and a currency without minor units prints as an integer.
    return int(value) if value.as_tuple().exponent == 0 else float(value)


Amount = Annotated[
    Decimal,
    PlainSerializer(_json_amount, return_type=int | float, when_used="json"),
    WithJsonSchema({"type": "number", "examples": [12.99]}),
]
MAX_AMOUNT = Decimal(1_000_000_000)


def _read_amount(value: Any) -> Any:
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("must be a number")
    if isinstance(value, str) and not value.strip():
        return None  # form builders send optional fields empty
    try:
        return money.to_decimal(value)
    except money.InvalidAmount as exc:
        raise ValueError("must be a number") from exc


AmountIn = Annotated[
    Decimal,
    BeforeValidator(_read_amount),
    Field(ge=0, le=MAX_AMOUNT),
    WithJsonSchema(
        {
            "type": "number",
            "minimum": 0,
            "description": 'An amount in the workspace\'s currency, such as 12.99 (or "12.99").',
            "examples": [12.99],
        }
    ),
]

Flag = Annotated[
    bool,
    WithJsonSchema(
        {"type": "integer", "enum": [0, 1], "description": "1 (or true) for yes, 0 (or false)."}
    ),
]


def _flag_out(value: bool) -> int:
    return int(value)


FlagOut = Annotated[
    bool,
    PlainSerializer(_flag_out, return_type=int),
    WithJsonSchema({"type": "integer", "enum": [0, 1]}),
]


def _amount(minor: int | None, shop: Shop) -> Decimal | None:
    return None if minor is None else money.from_minor(minor, shop.currency)


class _In(BaseModel):
    # Integrations often send SKUs, barcodes and codes as JSON numbers.
    model_config = ConfigDict(coerce_numbers_to_str=True)


def _split_commas(value: Any) -> Any:
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.split(",")) if part]
    return value


TagNames = Annotated[
    list[Annotated[str, Field(max_length=255)]],
    BeforeValidator(_split_commas),
    Field(
        max_length=50,
        description="Tag names (a list, or one comma-separated string); missing tags are created.",
        examples=[["sale"]],
    ),
]

# ---------------------------------------------------------------------------------------------
# Types, vendors and tags


class ProductTypeOut(BaseModel):
    id: int = Field(examples=[3])
    name: str = Field(examples=["T-shirts"])

    @classmethod
    def of(cls, item: ProductType) -> ProductTypeOut:
        return cls(id=item.id, name=item.name)


class ProductVendorOut(BaseModel):
    id: int = Field(examples=[2])
    name: str = Field(examples=["Acme Apparel"])

    @classmethod
    def of(cls, item: ProductVendor) -> ProductVendorOut:
        return cls(id=item.id, name=item.name)


class ProductTagOut(BaseModel):
    id: int = Field(examples=[5])
    name: str = Field(examples=["summer"])

    @classmethod
    def of(cls, item: ProductTag) -> ProductTagOut:
        return cls(id=item.id, name=item.name)


class ShopNameIn(_In):
    name: str = Field(max_length=255, examples=["T-shirts"])


class ShopRenameIn(_In):
    name: str | None = Field(default=None, max_length=255, examples=["Tees"])


# ---------------------------------------------------------------------------------------------
# Locations


class LocationOut(BaseModel):
    id: int = Field(examples=[1])
    name: str = Field(examples=["City store"])
    address: str = Field(examples=["1 George St, Sydney NSW 2000"])
    note: str | None = Field(examples=["Pickup at the back door after 5 pm"])
    lat: float = Field(examples=[-33.8688])
    lng: float = Field(examples=[151.2093])

    @classmethod
    def of(cls, location: ShopLocation) -> LocationOut:
        return cls(
            id=location.id,
            name=location.name,
            address=location.address,
            note=location.note,
            lat=location.lat,
            lng=location.lng,
        )


def _within(bound: int) -> Any:
    def check(value: float) -> float:
        if not -bound <= value <= bound:
            raise ValueError(f"must be between -{bound} and {bound}")
        return value

    return AfterValidator(check)


Latitude = Annotated[
    float,
    _within(90),
    Field(json_schema_extra={"minimum": -90, "maximum": 90}, examples=[-33.8688]),
]
Longitude = Annotated[
    float,
    _within(180),
    Field(json_schema_extra={"minimum": -180, "maximum": 180}, examples=[151.2093]),
]


class CreateLocationIn(_In):
    name: str = Field(max_length=255, examples=["City store"])
    address: str = Field(max_length=1024, examples=["1 George St, Sydney NSW 2000"])
    note: str | None = Field(default=None, max_length=20_000, examples=["Pickup after 5 pm"])
    lat: Latitude
    lng: Longitude

    def fields(self) -> LocationFields:
        return LocationFields(self.name, self.address, self.note, self.lat, self.lng)


class UpdateLocationIn(_In):
    name: str | None = Field(default=None, max_length=255, examples=["City store"])
    address: str | None = Field(default=None, max_length=1024, examples=["2 George St"])
    note: str | None = Field(default=None, max_length=20_000, examples=["Pickup after 5 pm"])
    lat: Latitude | None = None
    lng: Longitude | None = None

    def fields(self) -> LocationFields:
        return LocationFields(self.name, self.address, self.note, self.lat, self.lng)


# ---------------------------------------------------------------------------------------------
# Business hours

DayOptionT = Literal["open", "close", "open_1", "open_2"]
_OPTIONS_DOC = (
    "`open`: all day; `close`: closed; `open_1`: from `start` to `end`; `open_2`: from `start` "
    "to `end` and from `start_2` to `end_2`."
)


class DayOut(BaseModel):
    id: str = Field(description="1 (Monday) to 7 (Sunday).", examples=["1"])
    name: str = Field(examples=["Monday"])
    option: DayOptionT = Field(description=_OPTIONS_DOC, examples=["open_2"])
    start: str | None = Field(examples=["09:00"])
    end: str | None = Field(examples=["12:30"])
    start_2: str | None = Field(examples=["13:30"])
    end_2: str | None = Field(examples=["17:00"])

    @classmethod
    def of(cls, day: Day) -> DayOut:
        return cls(
            id=str(day.day),
            name=day.name,
            option=day.option,
            start=day.start,
            end=day.end,
            start_2=day.start_2,
            end_2=day.end_2,
        )


Time = Annotated[str | None, Field(default=None, max_length=5, examples=["09:00"])]


class DayIn(_In):
    id: str | None = Field(
        default=None, description="1 (Monday) to 7 (Sunday); or give `name`.", examples=["1"]
    )
    name: str | None = Field(default=None, max_length=16, examples=["Monday"])
    option: DayOptionT | None = Field(default=None, description=_OPTIONS_DOC, examples=["open_2"])
    start: Time = None
    end: Time = None
    start_2: Time = None
    end_2: Time = None

    def change(self) -> DayChange:
        return DayChange(
            self.id, self.name, self.option, self.start, self.end, self.start_2, self.end_2
        )


class BusinessHoursIn(_In):
    data: list[DayIn] = Field(
        max_length=7,
        examples=[
            [
                {
                    "id": "1",
                    "option": "open_2",
                    "start": "09:00",
                    "end": "12:30",
                    "start_2": "13:30",
                    "end_2": "17:00",
                },
                {"name": "Sunday", "option": "close"},
            ]
        ],
    )


# ---------------------------------------------------------------------------------------------
# Products and variants


class VariantOut(BaseModel):
    id: int = Field(examples=[278])
    product_id: int = Field(examples=[78])
    variant_1_value: str | None = Field(examples=["Blue"])
    variant_2_value: str | None = Field(examples=["L"])
    image: str | None = Field(examples=["https://example.com/tee-blue.png"])
    price: Amount
    compare_price: Amount | None = Field(description="The price before a sale, if any.")
    taxable: bool
    sku: str | None = Field(examples=["TEE-BLU-L"])
    barcode: str | None = Field(examples=["9300000000001"])
    track_stock: bool
    allow_no_stock_sell: bool = Field(description="Whether it sells on when out of stock.")
    qty: int = Field(description="Units in stock.", examples=[20])
    display_order: int = Field(examples=[1])

    @classmethod
    def of(cls, variant: ProductVariant, shop: Shop) -> VariantOut:
        return cls(
            id=variant.id,
            product_id=variant.product_id,
            variant_1_value=variant.variant_1_value,
            variant_2_value=variant.variant_2_value,
            image=variant.image,
            price=money.from_minor(variant.price_minor, shop.currency),
            compare_price=_amount(variant.compare_price_minor, shop),
            taxable=variant.taxable,
            sku=variant.sku,
            barcode=variant.barcode,
            track_stock=variant.track_stock,
            allow_no_stock_sell=variant.allow_no_stock_sell,
            qty=variant.qty,
            display_order=variant.display_order,
        )


class ProductVariantOut(BaseModel):
    """A variant as a product lists it: with the product's name and its option names."""

    id: int = Field(examples=[278])
    product_id: int = Field(examples=[78])
    option_1: str | None = Field(description="The first option's name.", examples=["Colour"])
    option_2: str | None = Field(description="The second option's name.", examples=["Size"])
    option_1_value: str | None = Field(examples=["Blue"])
    option_2_value: str | None = Field(examples=["L"])
    name: str = Field(description="The product's name.", examples=["Classic tee"])
    desc: str | None = Field(description="The product's description.")
    image: str | None = Field(description="The variant's image, else the product's.")
    price: Amount
    compare_price: Amount | None
    sku: str | None = Field(examples=["TEE-BLU-L"])
    barcode: str | None
    taxable: bool
    track_stock: bool
    allow_no_stock_sell: bool
    qty: int = Field(examples=[20])

    @classmethod
    def of(cls, view: ProductView, variant: ProductVariant, shop: Shop) -> ProductVariantOut:
        product = view.product
        return cls(
            id=variant.id,
            product_id=product.id,
            option_1=product.variant_1_name,
            option_2=product.variant_2_name,
            option_1_value=variant.variant_1_value,
            option_2_value=variant.variant_2_value,
            name=product.name,
            desc=product.description,
            image=variant.image or product.image,
            price=money.from_minor(variant.price_minor, shop.currency),
            compare_price=_amount(variant.compare_price_minor, shop),
            sku=variant.sku,
            barcode=variant.barcode,
            taxable=variant.taxable,
            track_stock=variant.track_stock,
            allow_no_stock_sell=variant.allow_no_stock_sell,
            qty=variant.qty,
        )


class ProductOut(BaseModel):
    id: int = Field(examples=[78])
    name: str = Field(examples=["Classic tee"])
    description: str | None = Field(examples=["Soft cotton, relaxed fit."])
    image: str | None = Field(examples=["https://example.com/tee.png"])
    note: str | None = Field(description="An internal note, not shown to subscribers.")
    status: Literal["active", "inactive"]
    use_variant: bool = Field(description="Whether the product comes in options (variants).")
    variant_1_name: str | None = Field(examples=["Colour"])
    variant_2_name: str | None = Field(examples=["Size"])
    total_qty: int = Field(description="Units in stock over all variants.", examples=[200])
    num_of_variants: int = Field(examples=[2])
    track_stock: bool = Field(description="Whether any variant tracks its stock.")
    type: str | None = Field(description="The product type's name.", examples=["T-shirts"])
    vendor: str | None = Field(description="The vendor's name.", examples=["Acme Apparel"])
    product_type_id: int | None = Field(examples=[3])
    vendor_id: int | None = Field(examples=[2])
    tags: list[str] = Field(examples=[["summer", "cotton"]])
    currency: str = Field(description="The workspace's currency (ISO 4217).", examples=["USD"])
    variants: list[ProductVariantOut]

    @classmethod
    def of(cls, view: ProductView, shop: Shop) -> ProductOut:
        product = view.product
        return cls(
            id=product.id,
            name=product.name,
            description=product.description,
            image=product.image,
            note=product.note,
            status=product.status,
            use_variant=product.use_variant,
            variant_1_name=product.variant_1_name,
            variant_2_name=product.variant_2_name,
            total_qty=view.total_qty,
            num_of_variants=len(view.variants),
            track_stock=view.track_stock,
            type=view.type_name,
            vendor=view.vendor_name,
            product_type_id=product.product_type_id,
            vendor_id=product.vendor_id,
            tags=view.tags,
            currency=shop.currency,
            variants=[ProductVariantOut.of(view, v, shop) for v in view.variants],
        )


Text255 = Annotated[str | None, Field(default=None, max_length=255)]
Url = Annotated[
    str | None,
    Field(default=None, max_length=1024, examples=["https://example.com/image.png"]),
]
LongText = Annotated[str | None, Field(default=None, max_length=20_000)]
Stock = Annotated[int | None, Field(default=None, ge=0, le=1_000_000_000, examples=[100])]


class VariantIn(_In):
    image: Url = None
    variant_1_value: Text255 = Field(default=None, max_length=255, examples=["Blue"])
    variant_2_value: Text255 = Field(default=None, max_length=255, examples=["L"])
    price: AmountIn | None = None
    compare_price: AmountIn | None = Field(
        default=None, description="The price before a sale; 0 for none."
    )
    taxable: Flag | None = None
    sku: Text255 = None
    barcode: Text255 = None
    track_stock: Flag | None = None
    allow_no_stock_sell: Flag | None = None
    qty: Stock = None

    def fields(self) -> VariantFields:
        return VariantFields(
            variant_1_value=self.variant_1_value,
            variant_2_value=self.variant_2_value,
            image=self.image,
            price=self.price,
            compare_price=self.compare_price,
            taxable=self.taxable,
            sku=self.sku,
            barcode=self.barcode,
            track_stock=self.track_stock,
            allow_no_stock_sell=self.allow_no_stock_sell,
            qty=self.qty,
        )


class _ProductIn(_In):
    description: LongText = None
    image: Url = None
    note: LongText = None
    status: Literal["active", "inactive"] | None = Field(default=None, examples=["active"])
    type: Text255 = Field(
        default=None,
        max_length=255,
        description="The product type's name; a type not yet known is created.",
        examples=["T-shirts"],
    )
    vendor: Text255 = Field(
        default=None,
        max_length=255,
        description="The vendor's name; a vendor not yet known is created.",
        examples=["Acme Apparel"],
    )
    tags: TagNames | None = None
    variant_1_name: Text255 = Field(
        default=None, max_length=255, description="The first option's name.", examples=["Colour"]
    )
    variant_2_name: Text255 = Field(
        default=None, max_length=255, description="The second option's name.", examples=["Size"]
    )
    # Without options, these set the product's one default variant.
    price: AmountIn | None = None
    compare_price: AmountIn | None = None
    taxable: Flag | None = None
    sku: Text255 = None
    barcode: Text255 = None
    track_stock: Flag | None = None
    allow_no_stock_sell: Flag | None = None
    qty: Stock = None

    def default_variant(self) -> VariantFields:
        return VariantFields(
            price=self.price,
            compare_price=self.compare_price,
            taxable=self.taxable,
            sku=self.sku,
            barcode=self.barcode,
            track_stock=self.track_stock,
            allow_no_stock_sell=self.allow_no_stock_sell,
            qty=self.qty,
        )

    def _product_fields(self, name: str | None) -> dict[str, Any]:
        return {
            "name": name,
            "description": self.description,
            "image": self.image,
            "note": self.note,
            "status": self.status,
            "type": self.type,
            "vendor": self.vendor,
            "tags": self.tags,
            "variant_1_name": self.variant_1_name,
            "variant_2_name": self.variant_2_name,
        }


class CreateProductIn(_ProductIn):
    name: str = Field(max_length=255, examples=["Classic tee"])
    use_variant: Flag | None = Field(
        default=None,
        description="1: the product comes in options, listed in `variants`; 0 (the default): "
        "it sells through one default variant made from `price`, `sku`, `qty` and the like.",
    )
    variants: list[VariantIn] | None = Field(default=None, max_length=100)

    def new_product(self) -> NewProduct:
        return NewProduct(
            **self._product_fields(self.name),
            use_variant=bool(self.use_variant),
            default=self.default_variant(),
            variants=[v.fields() for v in self.variants or []],
        )


class UpdateProductIn(_ProductIn):
    id: int | None = Field(default=None, description="Ignored: the path names the product.")
    name: Text255 = Field(default=None, max_length=255, examples=["Classic tee"])

    def changes(self) -> ProductFields:
        return ProductFields(**self._product_fields(self.name))


# ---------------------------------------------------------------------------------------------
# Discount codes

DiscountTypeT = Literal["percentage", "amount", "free_shipping"]
MinRequireT = Literal["none", "price", "qty"]
WallTime = Annotated[
    str,
    Field(
        max_length=32,
        description="`YYYY-MM-DD HH:MM:SS` in the workspace's timezone.",
        examples=["2026-12-25 00:00:00"],
    ),
]
Count = Annotated[int, Field(ge=0, le=1_000_000_000)]


class DiscountCodeOut(BaseModel):
    id: int = Field(examples=[78])
    code: str = Field(examples=["XMAS10"])
    type: DiscountTypeT = Field(examples=["percentage"])
    discount_percentage: int = Field(examples=[10])
    discount_amount: Amount
    once_per_order: FlagOut = Field(
        description="Amount codes: 1 takes the amount off the order once, 0 off each item."
    )
    min_require: MinRequireT = Field(examples=["price"])
    min_price: Amount
    min_qty: int = Field(examples=[0])
    has_usage_limit: FlagOut
    max_usage_count: int = Field(examples=[100])
    usage_count: int = Field(description="How many orders used the code.", examples=[3])
    one_per_customer: FlagOut
    start_time: str = Field(examples=["2026-12-25 00:00:00"])
    end_time: str = Field(examples=["2026-12-27 00:00:00"])
    summary: str = Field(
        examples=["10% off the order; minimum purchase of 50.00 USD; valid from ... to ..."]
    )

    @classmethod
    def of(cls, code: DiscountCode, shop: Shop) -> DiscountCodeOut:
        zone = shop.zone
        return cls(
            id=code.id,
            code=code.code,
            type=code.type,
            discount_percentage=code.discount_percentage,
            discount_amount=money.from_minor(code.discount_amount_minor, shop.currency),
            once_per_order=code.once_per_order,
            min_require=code.min_require,
            min_price=money.from_minor(code.min_price_minor, shop.currency),
            min_qty=code.min_qty,
            has_usage_limit=code.has_usage_limit,
            max_usage_count=code.max_usage_count,
            usage_count=code.usage_count,
            one_per_customer=code.one_per_customer,
            start_time=format_time(code.start_time, zone),
            end_time=format_time(code.end_time, zone),
            summary=describe(code, shop),
        )


class _DiscountIn(_In):
    discount_percentage: int | None = Field(
        default=None, ge=0, le=100, description="For `percentage` codes: 1 to 100.", examples=[10]
    )
    discount_amount: AmountIn | None = Field(default=None, description="For `amount` codes.")
    once_per_order: Flag | None = Field(
        default=None, description="For `amount` codes: 1 takes it off once, 0 off each item."
    )
    min_require: MinRequireT | None = Field(
        default=None,
        description="`none`, `price` (at least `min_price` spent) or `qty` (`min_qty` items).",
        examples=["price"],
    )
    min_price: AmountIn | None = None
    min_qty: Count | None = Field(default=None, examples=[2])
    has_usage_limit: Flag | None = None
    max_usage_count: Count | None = Field(
        default=None, description="With `has_usage_limit`: how many orders may use the code."
    )
    one_per_customer: Flag | None = Field(default=None, description="One order per subscriber.")

    def _given(self, **head: Any) -> DiscountFields:
        return DiscountFields(
            **head,
            discount_percentage=self.discount_percentage,
            discount_amount=self.discount_amount,
            once_per_order=self.once_per_order,
            min_require=self.min_require,
            min_price=self.min_price,
            min_qty=self.min_qty,
            has_usage_limit=self.has_usage_limit,
            max_usage_count=self.max_usage_count,
            one_per_customer=self.one_per_customer,
        )


class CreateDiscountIn(_DiscountIn):
    code: str = Field(max_length=255, examples=["XMAS10"])
    type: DiscountTypeT = Field(examples=["percentage"])
    start_time: WallTime
    end_time: WallTime = Field(examples=["2026-12-27 00:00:00"])

    def given(self) -> DiscountFields:
        return self._given(
            code=self.code, type=self.type, start_time=self.start_time, end_time=self.end_time
        )


class UpdateDiscountIn(_DiscountIn):
    code: str | None = Field(default=None, max_length=255, examples=["XMAS15"])
    type: DiscountTypeT | None = Field(default=None, examples=["amount"])
    start_time: WallTime | None = None
    end_time: WallTime | None = None

    def given(self) -> DiscountFields:
        return self._given(
            code=self.code, type=self.type, start_time=self.start_time, end_time=self.end_time
        )
