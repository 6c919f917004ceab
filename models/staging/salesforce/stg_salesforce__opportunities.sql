with source as (
    select * from {{ source('salesforce', 'opportunity') }}
),

renamed as (
    select
        cast(id as varchar) as opportunity_id,
        cast(name as varchar) as opportunity_name,
        cast(account_id as varchar) as account_id,
        cast(owner_id as varchar) as owner_id,
        cast(stage_name as varchar) as stage,
        {{ money('amount') }} as amount,
        cast(probability as decimal(5, 2)) as probability,
        cast(close_date as date) as close_date,
        cast(is_closed as boolean) as is_closed,
        cast(is_won as boolean) as is_won,
        cast(forecast_category_name as varchar) as forecast_category,
        cast(type as varchar) as opportunity_type,
        cast(lead_source as varchar) as lead_source,
        cast(next_step as varchar) as next_step,
        cast(product_category__c as varchar) as product_category,
        cast(last_activity_date as date) as last_activity_date,
        cast(is_deleted as boolean) as is_deleted,
        {{ to_utc_timestamp('created_date') }} as created_at,
        {{ to_utc_timestamp('last_modified_date') }} as last_modified_at,
        {{ to_utc_timestamp('system_modstamp') }} as system_modstamp,
        cast(_dlt_load_id as varchar) as _dlt_load_id
    from source
)

select * from renamed
