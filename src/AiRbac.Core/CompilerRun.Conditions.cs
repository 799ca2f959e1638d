// Policy language version 2 (docs/policy-language.md, section 11): the version gate (a version 1 document may not use a
// version 2 section), the context keys and their types, and each role's conditions parsed into CompiledCondition
// (patterns, integers, time windows), so that no condition text is parsed per request.

using System.Globalization;
using AiRbac.Diagnostics;
using AiRbac.Model;
using AiRbac.Patterns;

namespace AiRbac;

internal sealed partial class CompilerRun
{
    /// <summary>The condition key that reads the request's time (UTC) instead of a context pair.</summary>
    internal const string TimeOfDayKey = "time_of_day";

    private const int MaxContextKeys = Tuning.Language.MaxContextKeys;
    private const int MaxContextKeyLength = Tuning.Language.MaxContextKeyLength;
    private const int MaxConditionsPerRole = Tuning.Language.MaxConditionsPerRole;
    private const int MaxConditionValues = Tuning.Language.MaxConditionValues;

    private bool IsVersion2 => doc.Version.Value == "2";

    /// <summary>A version 1 document may not use a version 2 section: each is an <c>unknown_key</c> there (version 1 files keep their meaning).</summary>
    private void CheckVersionFeatures()
    {
        if (IsVersion2 || doc.Version.Value != "1")
        {
            return;
        }

        const string Hint = "is part of policy language version 2; this policy says version: 1";
        if (doc.Context is not null)
        {
            Error(DiagnosticCodes.UnknownKey, $"'context' {Hint}", At(doc.ContextLocation));
        }

        if (doc.Approvals is not null)
        {
            Error(DiagnosticCodes.UnknownKey, $"'approvals' {Hint}", At(doc.ApprovalsLocation));
        }

        foreach (var role in doc.Roles)
        {
            if (role.Conditions.Count > 0 || role.ConditionsLocation.Line > 0)
            {
                Error(DiagnosticCodes.UnknownKey, $"role '{Q(role.Name.Value)}': 'conditions' {Hint}", role.ConditionsLocation.Line > 0 ? role.ConditionsLocation : role.Location);
            }

            if (role.BreakGlass is { } breakGlass)
            {
                Error(DiagnosticCodes.UnknownKey, $"role '{Q(role.Name.Value)}': 'break_glass' {Hint}", breakGlass.Location.Line > 0 ? breakGlass.Location : role.Location);
            }
        }
    }

    /// <summary>
    /// Each role's <c>break_glass</c> (docs/policy-language.md, section 12): the maximum activation time in ticks, or 0 for an
    /// ordinary role. A break-glass role needs a <c>max_activation</c> of at most seven days.
    /// </summary>
    private long[] CheckBreakGlass()
    {
        var result = new long[doc.Roles.Count];
        for (int r = 0; r < doc.Roles.Count; r++)
        {
            var role = doc.Roles[r];
            if (role.BreakGlass is not { } breakGlass || !IsVersion2)
            {
                continue;
            }

            string name = role.Name.Value;
            if (breakGlass.MaxActivation is not { } text)
            {
                Error(DiagnosticCodes.MissingKey, $"role '{Q(name)}': break_glass needs max_activation (how long an activation lasts, such as 4h); an activation without an end would be a standing grant", At(breakGlass.Location));
                continue;
            }

            var longest = TimeSpan.FromDays(Tuning.Language.MaxBreakGlassActivationDays);
            if (!Duration.TryParse(text.Value, out var max) || max > longest)
            {
                Error(DiagnosticCodes.InvalidValue, $"role '{Q(name)}': max_activation '{Q(text.Value)}' is not a duration of at most {Duration.Format(longest)} (a positive count and m, h, d or w: 30m, 4h, 1d)", text.Location);
                continue;
            }

            result[r] = max.Ticks;
        }

        return result;
    }

    /// <summary>The <c>context</c> section: each key's index and type, in file order.</summary>
    private (Dictionary<string, int> Keys, ContextValueType[] Types) CheckContextKeys()
    {
        var keys = new Dictionary<string, int>(StringComparer.Ordinal);
        var types = new List<ContextValueType>();
        var declared = doc.Context ?? [];
        if (declared.Count > MaxContextKeys)
        {
            Error(DiagnosticCodes.LimitExceeded, string.Create(CultureInfo.InvariantCulture,
                $"the context section declares {declared.Count} keys; at most {MaxContextKeys} are supported"), At(doc.ContextLocation));
            return (keys, []);
        }

        foreach (var key in declared)
        {
            string name = key.Name.Value;
            if (!IsContextKeyName(name))
            {
                Error(DiagnosticCodes.InvalidCondition, string.Create(CultureInfo.InvariantCulture,
                    $"context key '{Q(name)}' must be 1 to {MaxContextKeyLength} letters, digits, '_', '.' or '-'"), key.Name.Location);
                continue;
            }

            if (name == TimeOfDayKey)
            {
                Error(DiagnosticCodes.InvalidCondition, $"context key '{TimeOfDayKey}' is reserved: conditions on it read the request's time", key.Name.Location);
                continue;
            }

            ContextValueType? type = key.Type.Value switch
            {
                "bool" => ContextValueType.Boolean,
                "string" => ContextValueType.String,
                "integer" => ContextValueType.Integer,
                _ => null,
            };
            if (type is null)
            {
                Error(DiagnosticCodes.InvalidCondition, $"context key '{Q(name)}': type '{Q(key.Type.Value)}' is not bool, string or integer", key.Type.Location);
                continue;
            }

            if (keys.ContainsKey(name))
            {
                Error(DiagnosticCodes.DuplicateKey, $"context key '{Q(name)}' is declared twice", key.Name.Location);
                continue;
            }

            keys.Add(name, types.Count);
            types.Add(type.Value);
        }

        return (keys, [.. types]);
    }

    private static bool IsContextKeyName(string name)
    {
        if (name.Length == 0 || name.Length > MaxContextKeyLength)
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Every role's conditions, parsed and checked against the declared keys and their types.</summary>
    private CompiledCondition[][] CheckConditions(Dictionary<string, int> keys, ContextValueType[] types)
    {
        var result = new CompiledCondition[doc.Roles.Count][];
        for (int r = 0; r < doc.Roles.Count; r++)
        {
            var role = doc.Roles[r];
            string name = role.Name.Value;
            if (role.Conditions.Count > MaxConditionsPerRole)
            {
                Error(DiagnosticCodes.LimitExceeded, string.Create(CultureInfo.InvariantCulture,
                    $"role '{Q(name)}' has {role.Conditions.Count} conditions; at most {MaxConditionsPerRole} are supported"), At(role.ConditionsLocation));
                result[r] = [];
                continue;
            }

            var list = new List<CompiledCondition>();
            foreach (var condition in role.Conditions)
            {
                if (CheckCondition(name, condition, keys, types) is { } compiled)
                {
                    list.Add(compiled);
                }
            }

            result[r] = [.. list];
        }

        return result;
    }

    private CompiledCondition? CheckCondition(string role, ConditionDefinition condition, Dictionary<string, int> keys, ContextValueType[] types)
    {
        string key = condition.Key.Value;
        string where = $"role '{Q(role)}' condition '{Q(key)}'";
        var at = condition.Location.Line > 0 ? condition.Location : condition.Key.Location;
        if (condition.Values.Count > MaxConditionValues)
        {
            Error(DiagnosticCodes.LimitExceeded, string.Create(CultureInfo.InvariantCulture,
                $"{where} lists {condition.Values.Count} values; at most {MaxConditionValues} are supported"), at);
            return null;
        }

        if (key == TimeOfDayKey)
        {
            return CheckTimeOfDay(condition, where, at);
        }

        if (!keys.TryGetValue(key, out int index))
        {
            string declared = keys.Count == 0 ? "the policy declares no context keys" : $"declared: {string.Join(", ", keys.Keys.Take(10).Select(Q))}";
            Error(DiagnosticCodes.UndeclaredContextKey, $"{where} reads a context key the context section does not declare ({declared}; or time_of_day)", condition.Key.Location);
            return null;
        }

        var type = types[index];
        if (condition.IsRange && type != ContextValueType.Integer)
        {
            Error(DiagnosticCodes.InvalidCondition, $"{where}: a {{min, max}} range needs an integer key; '{Q(key)}' is {TypeName(type)}", at);
            return null;
        }

        if (!condition.IsRange && condition.Values.Count == 0)
        {
            Error(DiagnosticCodes.InvalidCondition, $"{where} lists no value", at);
            return null;
        }

        return type switch
        {
            ContextValueType.Boolean => CheckBoolean(condition, index, where, at),
            ContextValueType.String => CheckString(condition, index, where),
            _ => CheckInteger(condition, index, where, at),
        };
    }

    private CompiledCondition? CheckBoolean(ConditionDefinition condition, int index, string where, SourceLocation at)
    {
        if (condition.IsList || condition.Values.Count != 1 || condition.Values[0].Value is not ("true" or "false"))
        {
            Error(DiagnosticCodes.InvalidCondition, $"{where}: '{Q(condition.Key.Value)}' is bool, so the condition is one value, true or false", at);
            return null;
        }

        bool value = condition.Values[0].Value == "true";
        return new CompiledCondition(condition.Key.Value, index, ContextValueType.Boolean, Text(condition), At(at))
        {
            Boolean = value,
        };
    }

    private CompiledCondition? CheckString(ConditionDefinition condition, int index, string where)
    {
        var patterns = new List<Pattern>();
        foreach (var value in condition.Values)
        {
            if (ParsePattern(value, $"{where}: value") is { } pattern)
            {
                patterns.Add(pattern);
            }
        }

        return patterns.Count != condition.Values.Count ? null
            : new CompiledCondition(condition.Key.Value, index, ContextValueType.String, Text(condition), At(condition.Location)) { Patterns = [.. patterns] };
    }

    private CompiledCondition? CheckInteger(ConditionDefinition condition, int index, string where, SourceLocation at)
    {
        if (condition.IsRange)
        {
            if (condition.Min is null && condition.Max is null)
            {
                Error(DiagnosticCodes.InvalidCondition, $"{where}: a range needs min, max or both", at);
                return null;
            }

            long min = long.MinValue, max = long.MaxValue;
            bool ok = (condition.Min is not { } low || TryInteger(low, where, out min)) & (condition.Max is not { } high || TryInteger(high, where, out max));
            if (ok && min > max)
            {
                Error(DiagnosticCodes.InvalidCondition, string.Create(CultureInfo.InvariantCulture, $"{where}: min {min} is above max {max}"), at);
                ok = false;
            }

            return ok ? new CompiledCondition(condition.Key.Value, index, ContextValueType.Integer, Text(condition), At(at)) { IsRange = true, Min = min, Max = max } : null;
        }

        var values = new List<long>();
        foreach (var value in condition.Values)
        {
            if (TryInteger(value, where, out long parsed))
            {
                values.Add(parsed);
            }
        }

        return values.Count != condition.Values.Count ? null
            : new CompiledCondition(condition.Key.Value, index, ContextValueType.Integer, Text(condition), At(at)) { Integers = [.. values] };
    }

    private bool TryInteger(LocatedString text, string where, out long value)
    {
        var span = text.Value.AsSpan();
        bool digits = span.Length > 0 && span.Length <= 20 && (char.IsAsciiDigit(span[0]) || (span[0] == '-' && span.Length > 1));
        for (int i = 1; digits && i < span.Length; i++)
        {
            digits = char.IsAsciiDigit(span[i]);
        }

        if (digits && long.TryParse(span, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
        {
            return true;
        }

        value = 0;
        Error(DiagnosticCodes.InvalidCondition, $"{where}: '{Q(text.Value)}' is not an integer (a whole number such as 42 or -1)", text.Location);
        return false;
    }

    private CompiledCondition? CheckTimeOfDay(ConditionDefinition condition, string where, SourceLocation at)
    {
        if (condition.IsRange || condition.Values.Count == 0)
        {
            Error(DiagnosticCodes.InvalidCondition, $"{where}: time_of_day is one window HH:MM-HH:MM (UTC) or a list of them", at);
            return null;
        }

        var windows = new List<TimeWindow>();
        foreach (var value in condition.Values)
        {
            if (TimeWindow.TryParse(value.Value, out var window))
            {
                windows.Add(window);
            }
            else
            {
                Error(DiagnosticCodes.InvalidCondition, $"{where}: '{Q(value.Value)}' is not a window HH:MM-HH:MM (UTC, 00:00 to 23:59, start and end different)", value.Location);
            }
        }

        return windows.Count != condition.Values.Count ? null
            : new CompiledCondition(TimeOfDayKey, -1, ContextValueType.String, Text(condition), At(at)) { Windows = [.. windows] };
    }

    private static string TypeName(ContextValueType type) => type switch
    {
        ContextValueType.Boolean => "bool",
        ContextValueType.String => "string",
        _ => "integer",
    };

    /// <summary>The condition as decisions and reports name it: <c>mfa: true</c>, <c>network: [corp, vpn]</c>, <c>risk: {min: 1, max: 5}</c>.</summary>
    private static string Text(ConditionDefinition condition)
    {
        string value = condition.IsRange
            ? "{" + string.Join(", ", new[] { condition.Min is { } min ? "min: " + min.Value : null, condition.Max is { } max ? "max: " + max.Value : null }.OfType<string>()) + "}"
            : condition.IsList ? "[" + string.Join(", ", condition.Values.Select(v => v.Value)) + "]"
            : condition.Values[0].Value;
        return $"{condition.Key.Value}: {value}";
    }
}

/// <summary>A window of the day in UTC, in minutes: <c>[Start, End)</c>, wrapping past midnight when <c>End &lt; Start</c>.</summary>
internal readonly record struct TimeWindow(int Start, int End)
{
    /// <summary>Parses <c>HH:MM-HH:MM</c> (00:00 to 23:59, the two different).</summary>
    public static bool TryParse(string text, out TimeWindow window)
    {
        window = default;
        if (text.Length != 11 || text[5] != '-' || !TryMinute(text.AsSpan(0, 5), out int start) || !TryMinute(text.AsSpan(6, 5), out int end) || start == end)
        {
            return false;
        }

        window = new TimeWindow(start, end);
        return true;
    }

    /// <summary>Whether the minute of the day <paramref name="minute"/> (0 to 1439) is inside the window.</summary>
    public bool Contains(int minute) => Start < End ? minute >= Start && minute < End : minute >= Start || minute < End;

    /// <summary>The minute of the day (UTC) of an instant given in UTC ticks.</summary>
    public static int MinuteOf(long utcTicks) => (int)(utcTicks % TimeSpan.TicksPerDay / TimeSpan.TicksPerMinute);

    private static bool TryMinute(ReadOnlySpan<char> text, out int minute)
    {
        minute = 0;
        if (text[2] != ':' || !char.IsAsciiDigit(text[0]) || !char.IsAsciiDigit(text[1]) || !char.IsAsciiDigit(text[3]) || !char.IsAsciiDigit(text[4]))
        {
            return false;
        }

        int hours = ((text[0] - '0') * 10) + (text[1] - '0');
        int minutes = ((text[3] - '0') * 10) + (text[4] - '0');
        minute = (hours * 60) + minutes;
        return hours < 24 && minutes < 60;
    }
}

/// <summary>
/// One role condition, compiled: the context key it reads (its declared index, or -1 for <c>time_of_day</c>) and what it
/// accepts. <see cref="Holds"/> is all a request costs: no text is parsed per request.
/// </summary>
internal sealed class CompiledCondition(string key, int keyIndex, ContextValueType type, string text, SourceLocation location)
{
    /// <summary>The key as written (<c>time_of_day</c> for a time condition).</summary>
    public string Key { get; } = key;

    /// <summary>The declared key's index, or -1 for <c>time_of_day</c>.</summary>
    public int KeyIndex { get; } = keyIndex;

    /// <summary>The key's declared type.</summary>
    public ContextValueType Type { get; } = type;

    /// <summary>The condition as written, canonically (<c>mfa: true</c>).</summary>
    public string Text { get; } = text;

    /// <summary>Where it was written.</summary>
    public SourceLocation Location { get; } = location;

    public bool Boolean { get; init; }

    public Pattern[] Patterns { get; init; } = [];

    public long[] Integers { get; init; } = [];

    public bool IsRange { get; init; }

    public long Min { get; init; } = long.MinValue;

    public long Max { get; init; } = long.MaxValue;

    public TimeWindow[] Windows { get; init; } = [];

    /// <summary>
    /// Whether the condition holds for the request's context pairs at <paramref name="nowTicks"/> (UTC). A key the request
    /// does not carry fails the condition. The pairs were checked at step 2: a declared key appears at most once, with its type.
    /// </summary>
    public bool Holds(ReadOnlySpan<ContextAttribute> attributes, long nowTicks)
    {
        if (KeyIndex < 0)
        {
            int minute = TimeWindow.MinuteOf(nowTicks);
            foreach (var window in Windows)
            {
                if (window.Contains(minute))
                {
                    return true;
                }
            }

            return false;
        }

        foreach (ref readonly var attribute in attributes)
        {
            if (!string.Equals(attribute.Key, Key, StringComparison.Ordinal))
            {
                continue;
            }

            return Type switch
            {
                ContextValueType.Boolean => attribute.BooleanValue == Boolean,
                ContextValueType.String => MatchesAny(attribute.StringValue!),
                _ => IsRange ? attribute.IntegerValue >= Min && attribute.IntegerValue <= Max : Array.IndexOf(Integers, attribute.IntegerValue) >= 0,
            };
        }

        return false;
    }

    private bool MatchesAny(string value)
    {
        foreach (var pattern in Patterns)
        {
            if (pattern.IsMatch(value))
            {
                return true;
            }
        }

        return false;
    }
}
