with source as (
    select * from {{ source('netsuite', 'items') }}
),

renamed as (
    select
        cast(id as bigint) as item_id,
        cast(itemid as varchar) as sku,
        cast(displayname as varchar) as item_name,
        cast(salesdescription as varchar) as sales_description,
        cast(itemtype as varchar) as item_type,
        cast(custitem_scc_category as varchar) as category,
        {{ money('baseprice') }} as base_price,
        {{ money('custitem_scc_min_price') }} as min_price,
        {{ money('cost') }} as cost,
        coalesce(isinactive = 'T', false) as is_inactive,
        cast(externalid as varchar) as external_id,
        {{ to_utc_timestamp('createddate') }} as created_at,
        {{ to_utc_timestamp('lastmodifieddate') }} as last_modified_at,
        cast(_dlt_load_id as varchar) as _dlt_load_id
    from source
)

select * from renamed
