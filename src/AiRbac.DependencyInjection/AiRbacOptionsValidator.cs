using Microsoft.Extensions.Options;

namespace AiRbac;

/// <summary>Checks <see cref="AiRbacOptions"/> when they are first read, or at host start (<c>ValidateOnStart</c>).</summary>
internal sealed class AiRbacOptionsValidator : IValidateOptions<AiRbacOptions>
{
    private static readonly TimeSpan MaxDebounce = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan MinPoll = TimeSpan.FromMilliseconds(100);

    public ValidateOptionsResult Validate(string? name, AiRbacOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.Source is null && options.PolicyFile is null)
        {
            failures.Add("AiRbac: no policy source was configured: set AiRbacOptions.Source, or AiRbacOptions.PolicyFile (configuration key AiRbac:PolicyFile) to the policy file's path.");
        }
        else if (options.Source is not null && options.PolicyFile is not null)
        {
            failures.Add($"AiRbac: both AiRbacOptions.Source ({options.Source}) and PolicyFile ('{options.PolicyFile}') are set; set one.");
        }
        else if (options.PolicyFile is not null && string.IsNullOrWhiteSpace(options.PolicyFile))
        {
            failures.Add("AiRbac:PolicyFile is empty; give the policy file's path.");
        }

        var shadow = options.Shadow;
        if (shadow.Source is not null && shadow.PolicyFile is not null)
        {
            failures.Add($"AiRbac: both AiRbacOptions.Shadow.Source ({shadow.Source}) and Shadow.PolicyFile ('{shadow.PolicyFile}') are set; set one.");
        }
        else if (shadow.PolicyFile is not null && string.IsNullOrWhiteSpace(shadow.PolicyFile))
        {
            failures.Add("AiRbac:Shadow:PolicyFile is empty; give the candidate policy file's path, or leave it out to turn shadow mode off.");
        }

        if (options.ReloadDebounce < TimeSpan.Zero || options.ReloadDebounce > MaxDebounce)
        {
            failures.Add($"AiRbac:ReloadDebounce is {options.ReloadDebounce}; it must be between 00:00:00 and {MaxDebounce} (for example \"00:00:00.250\").");
        }

        if (options.PollInterval > TimeSpan.Zero && options.PollInterval < MinPoll)
        {
            failures.Add($"AiRbac:PollInterval is {options.PollInterval}; it must be at least {MinPoll}, or 00:00:00 to turn the periodic check off.");
        }

        var audit = options.AuditLog;
        if (audit.Path is not null && string.IsNullOrWhiteSpace(audit.Path))
        {
            failures.Add("AiRbac:AuditLog:Path is empty; give a file path, or leave it out to turn the audit log off.");
        }

        if (audit.Capacity < 1 || audit.Capacity > 1 << 24)
        {
            failures.Add($"AiRbac:AuditLog:Capacity is {audit.Capacity}; it must be between 1 and {1 << 24}.");
        }

        if (audit.MaxFileBytes < 1)
        {
            failures.Add($"AiRbac:AuditLog:MaxFileBytes is {audit.MaxFileBytes}; it must be above 0.");
        }

        if (audit.FilesKept < 0)
        {
            failures.Add($"AiRbac:AuditLog:FilesKept is {audit.FilesKept}; it must be 0 or more.");
        }

        if (!Enum.IsDefined(audit.Overflow))
        {
            failures.Add($"AiRbac:AuditLog:Overflow is {audit.Overflow}; it must be DropNewest or Block.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
