with source as (
    select * from {{ source('netsuite', 'locations') }}
),

renamed as (
    select
        cast(id as bigint) as location_id,
        cast(name as varchar) as location_name,
        coalesce(isinactive = 'T', false) as is_inactive,
        cast(_dlt_load_id as varchar) as _dlt_load_id
    from source
)

select * from renamed
