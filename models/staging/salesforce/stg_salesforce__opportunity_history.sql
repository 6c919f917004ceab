with source as (
    select * from {{ source('salesforce', 'opportunity_history') }}
),

renamed as (
    select
        cast(id as varchar) as opportunity_history_id,
        cast(opportunity_id as varchar) as opportunity_id,
        cast(stage_name as varchar) as stage,
        {{ money('amount') }} as amount,
        {{ money('expected_revenue') }} as expected_revenue,
        cast(close_date as date) as close_date,
        cast(probability as decimal(5, 2)) as probability,
        cast(forecast_category as varchar) as forecast_category,
        cast(created_by_id as varchar) as created_by_id,
        {{ to_utc_timestamp('created_date') }} as changed_at,
        {{ to_utc_timestamp('system_modstamp') }} as system_modstamp,
        cast(is_deleted as boolean) as is_deleted,
        cast(_dlt_load_id as varchar) as _dlt_load_id
    from source
)

select * from renamed
