with source as (
    select * from {{ source('netsuite', 'sales_order_lines') }}
),

renamed as (
    select
        cast(uniquekey as bigint) as sales_order_line_id,
        cast("transaction" as bigint) as sales_order_id,
        cast(id as bigint) as line_id,
        cast(linesequencenumber as bigint) as line_number,
        cast(item as bigint) as item_id,
        cast(location as bigint) as location_id,
        cast(quantity as decimal(18, 4)) as quantity,
        {{ money('rate') }} as unit_price,
        {{ money('foreignamount') }} as amount,
        cast(quantityshiprecv as decimal(18, 4)) as quantity_fulfilled,
        cast(quantitybilled as decimal(18, 4)) as quantity_billed,
        coalesce(isclosed = 'T', false) as is_closed,
        {{ to_utc_timestamp('transaction_lastmodified') }} as transaction_last_modified_at,
        cast(_dlt_load_id as varchar) as _dlt_load_id
    from source
)

select * from renamed
