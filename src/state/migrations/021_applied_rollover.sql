-- What the last apply wrote as a member's rollover.max, beside applied_group, applied_allocation and
-- applied_extra: a direct SQL change of members.rollover_max then shows in a plan as drift ("changed outside
-- credits.yaml") like the other declared fields. Groups need nothing: their `applied` object is built from
-- every declared field, rollover included (src/state/declared/fields.ts).
ALTER TABLE members ADD COLUMN applied_rollover_max numeric(24,6);
-- Rows an apply wrote before this column existed: what is live is taken as applied (no drift is invented).
UPDATE members SET applied_rollover_max = rollover_max WHERE declared AND rollover_max IS NOT NULL;
