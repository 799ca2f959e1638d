using System.Text;
using System.Text.Json;
using AiRbac.Requests;

namespace AiRbac.Review.Internal;

/// <summary>The fields of one audit record that the review uses.</summary>
internal sealed class AuditRecord
{
    public DateTimeOffset Time { get; set; }

    public string Subject { get; set; } = string.Empty;

    public string? Kind { get; set; }

    public bool Allowed { get; set; }

    public string? Role { get; set; }

    public string? Rule { get; set; }

    public List<string> Roles { get; } = [];
}

/// <summary>
/// Streams an audit log (JSON Lines, one decision record per line): one line at a time, each at most
/// <see cref="MaxLineLength"/> characters, so memory stays bounded whatever the size of the log.
/// </summary>
internal sealed class AuditLogReader(TextReader reader)
{
    /// <summary>The longest line accepted: 1 MiB of characters.</summary>
    public const int MaxLineLength = 1 << 20;

    private static readonly HashSet<string> Kinds = ["user", "service", "agent"];
    private static readonly string[] OptionalStrings = ["policy_version", "policy_loaded_at", "scope", "sensitivity"];

    private readonly BoundedLineReader lines = new(reader, MaxLineLength);
    private readonly AuditRecord record = new();

    /// <summary>The number of the line last read.</summary>
    public long LineNumber => lines.LineNumber;

    /// <summary>Reads the next record; blank lines are skipped. The returned object is reused by the next call.</summary>
    /// <exception cref="AuditLogFormatException">The line is too long or not a valid record.</exception>
    public AuditRecord? Next()
    {
        while (ReadLine(out string text))
        {
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            try
            {
                Parse(text);
            }
            catch (InvalidOperationException)
            {
                // System.Text.Json will not decode a lone surrogate escape ("\ud800"): the line is refused, never repaired.
                throw Bad("a string holds an escape that is not valid UTF-16 (a lone surrogate)");
            }

            return record;
        }

        return null;
    }

    private bool ReadLine(out string text) => lines.Read(out text) switch
    {
        LineStatus.Line => true,
        LineStatus.TooLong => throw Bad($"the line is longer than {MaxLineLength} characters"),
        _ => false,
    };

    private void Parse(string text)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw Bad($"not valid JSON ({e.Message})");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Bad("not a JSON object");
            }

            string time = RequiredString(root, "time");
            if (!Rfc3339.TryParse(time, out var instant))
            {
                throw Bad($"'time' is not an RFC 3339 date-time: {Shorten(time)}");
            }

            record.Time = instant;
            record.Subject = RequiredString(root, "subject");
            _ = RequiredString(root, "action");
            _ = RequiredString(root, "resource");
            if (!root.TryGetProperty("allowed", out var allowed) || allowed.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                throw Bad("'allowed' must be present and be true or false");
            }

            record.Allowed = allowed.GetBoolean();
            _ = RequiredString(root, "reason");
            record.Kind = OptionalString(root, "kind");
            if (record.Kind is not null && !Kinds.Contains(record.Kind))
            {
                throw Bad($"unknown 'kind': {Shorten(record.Kind)} (expected user, service or agent)");
            }

            record.Role = OptionalString(root, "role");
            record.Rule = OptionalString(root, "rule");
            foreach (string field in OptionalStrings)
            {
                _ = OptionalString(root, field);
            }

            CheckStringArray(root, "tags");
            CheckStringArray(root, "on_behalf_of");
            record.Roles.Clear();
            if (root.TryGetProperty("roles", out var roles) && roles.ValueKind != JsonValueKind.Null)
            {
                if (roles.ValueKind != JsonValueKind.Array)
                {
                    throw Bad("'roles' must be an array of role names");
                }

                foreach (var item in roles.EnumerateArray())
                {
                    // Role names are written as strings; a binding object {"role": ...} is accepted too.
                    if (item.ValueKind == JsonValueKind.String)
                    {
                        record.Roles.Add(item.GetString()!);
                    }
                    else if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("role", out var name) && name.ValueKind == JsonValueKind.String)
                    {
                        record.Roles.Add(name.GetString()!);
                    }
                    else
                    {
                        throw Bad("'roles' must be an array of role names");
                    }
                }
            }
        }
    }

    private string RequiredString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value))
        {
            throw Bad($"'{name}' is missing");
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Bad($"'{name}' must be a string");
    }

    private string? OptionalString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw Bad($"'{name}' must be a string");
    }

    private void CheckStringArray(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Bad($"'{name}' must be an array of strings");
        }

        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                throw Bad($"'{name}' must be an array of strings");
            }
        }
    }

    private AuditLogFormatException Bad(string message) => new(LineNumber, message);

    private static string Shorten(string value) => value.Length <= 64 ? $"'{value}'" : $"'{value[..61]}...'";
}
