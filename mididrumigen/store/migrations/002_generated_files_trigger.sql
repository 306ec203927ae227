-- A generation's file rows are written by the same statement that records the generation:
-- one INSERT (atomic on its own) instead of a transaction of several statements, so the
-- daemon's busiest write costs one round trip to the database thread.
CREATE TRIGGER generated_files_from_history AFTER INSERT ON generation_history
BEGIN
    INSERT INTO generated_files (id, generation_id, path, name, artist, created_at)
    SELECT json_extract(value, '$.id'), NEW.id, json_extract(value, '$.path'), json_extract(value, '$.name'),
           NEW.artist, NEW.created_at
    FROM json_each(NEW.files);
END;
