"""The Connect API's wire conventions (envelopes, errors, paging, method override), written once."""
