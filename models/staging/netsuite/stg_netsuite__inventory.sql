with source as (
    select * from {{ source('netsuite', 'inventory') }}
),

renamed as (
    select
        cast(item as bigint) as item_id,
        cast(location as bigint) as location_id,
        cast(quantityonhand as decimal(18, 4)) as quantity_on_hand,
        cast(quantityavailable as decimal(18, 4)) as quantity_available,
        cast(quantitycommitted as decimal(18, 4)) as quantity_committed,
        cast(quantitybackordered as decimal(18, 4)) as quantity_backordered,
        cast(_dlt_load_id as varchar) as _dlt_load_id
    from source
)

select * from renamed
