using AiRbac.Diagnostics;
using Microsoft.Extensions.Logging;

namespace AiRbac;

/// <summary>
/// The AiRbac log events (source-generated, <see cref="LoggerMessageAttribute"/>). Event ids are stable: dashboards
/// and alerts key on them, so never renumber one (docs/dependency-injection.md lists them).
/// </summary>
internal static partial class AiRbacLog
{
    /// <summary>The category of the operational events: loads, reloads, the periodic check, audit drops.</summary>
    public const string Category = "AiRbac";

    /// <summary>The category of the decision events of the logging audit sink, so they can be routed or filtered alone.</summary>
    public const string AuditCategory = "AiRbac.Audit";

    /// <summary>The category of the load and reload events (1 to 9) of the candidate policy of shadow mode.</summary>
    public const string ShadowCategory = "AiRbac.Shadow";

    [LoggerMessage(EventId = 1, EventName = "PolicyLoaded", Level = LogLevel.Information,
        Message = "AiRbac policy loaded from {PolicySource}: version {PolicyVersion}, loaded at {LoadedAt}")]
    public static partial void PolicyLoaded(ILogger logger, string policySource, string policyVersion, DateTimeOffset loadedAt);

    [LoggerMessage(EventId = 2, EventName = "PolicyReloaded", Level = LogLevel.Information,
        Message = "AiRbac policy reloaded from {PolicySource}: version {PolicyVersion} (was {PreviousVersion}) answers; removed {RemovedRoleCount} role(s) and {RemovedDenyCount} deny rule(s)")]
    public static partial void PolicyReloaded(ILogger logger, string policySource, string policyVersion, string previousVersion, int removedRoleCount, int removedDenyCount);

    [LoggerMessage(EventId = 3, EventName = "PolicyReloadRemovedRules", Level = LogLevel.Warning,
        Message = "AiRbac policy reload from {PolicySource} (version {PolicyVersion}) removed roles [{RemovedRoles}] and deny rules [{RemovedDenies}]")]
    public static partial void PolicyReloadRemovedRules(ILogger logger, string policySource, string policyVersion, string removedRoles, string removedDenies);

    [LoggerMessage(EventId = 4, EventName = "PolicyReloadFailed", Level = LogLevel.Error,
        Message = "AiRbac policy reload from {PolicySource} failed with {ErrorCount} error(s); version {PolicyVersion} keeps answering. First error: {FirstError}")]
    public static partial void PolicyReloadFailed(ILogger logger, string policySource, int errorCount, string policyVersion, string firstError, Exception? exception);

    [LoggerMessage(EventId = 5, EventName = "PolicyDiagnostic",
        Message = "{File}:{Line}:{Column}: {Severity} {Code}: {Detail}")]
    public static partial void PolicyDiagnostic(ILogger logger, LogLevel level, string file, int line, int column, string severity, string code, string detail);

    [LoggerMessage(EventId = 6, EventName = "PolicyLoadFailed", Level = LogLevel.Critical,
        Message = "AiRbac policy from {PolicySource} was rejected at start-up with {ErrorCount} error(s). First error: {FirstError}")]
    public static partial void PolicyLoadFailed(ILogger logger, string policySource, int errorCount, string firstError, Exception? exception);

    [LoggerMessage(EventId = 7, EventName = "PolicyUnreadable", Level = LogLevel.Warning,
        Message = "AiRbac periodic check could not read the policy {PolicySource}: {Reason}; version {PolicyVersion} keeps answering")]
    public static partial void PolicyUnreadable(ILogger logger, string policySource, string reason, string policyVersion);

    [LoggerMessage(EventId = 8, EventName = "PolicyCheckFailed", Level = LogLevel.Error,
        Message = "AiRbac reload or periodic check of {PolicySource} threw (a Reloaded or ReloadFailed handler, or a bug); it is retried on the next change or check")]
    public static partial void PolicyCheckFailed(ILogger logger, string policySource, Exception exception);

    [LoggerMessage(EventId = 9, EventName = "PolicyReloadUnchanged", Level = LogLevel.Debug,
        Message = "AiRbac policy from {PolicySource} is unchanged: version {PolicyVersion} keeps answering")]
    public static partial void PolicyReloadUnchanged(ILogger logger, string policySource, string policyVersion);

    [LoggerMessage(EventId = 20, EventName = "AuditRecordsDropped", Level = LogLevel.Warning,
        Message = "AiRbac audit dropped {DroppedCount} record(s) in the last {Interval} ({TotalDropped} since start): the buffer was full or the audit file could not be written")]
    public static partial void AuditRecordsDropped(ILogger logger, long droppedCount, TimeSpan interval, long totalDropped);

    [LoggerMessage(EventId = 21, EventName = "ShadowEvaluationsFailed", Level = LogLevel.Warning,
        Message = "AiRbac shadow policy evaluation threw {FailedCount} time(s) in the last {Interval} ({TotalFailed} since start); the live decisions were not affected")]
    public static partial void ShadowEvaluationsFailed(ILogger logger, long failedCount, TimeSpan interval, long totalFailed);

    [LoggerMessage(EventId = 30, EventName = "BreakGlassDecision", Level = LogLevel.Warning,
        Message = "AiRbac break-glass decision: {Subject} {Action} {Resource}: allowed={Allowed} reason={Reason} through break-glass role {BreakGlassRole} activated by {ActivatedBy}: {Justification} (policy {PolicyVersion})")]
    public static partial void BreakGlassDecision(ILogger logger, string subject, string action, string resource, bool allowed, string reason, string breakGlassRole, string activatedBy, string justification, string policyVersion);

    [LoggerMessage(EventId = 31, EventName = "BreakGlassHandlerFailed", Level = LogLevel.Error,
        Message = "AiRbac OnBreakGlass handler threw for {Subject} through break-glass role {BreakGlassRole}; the decision stands")]
    public static partial void BreakGlassHandlerFailed(ILogger logger, string subject, string breakGlassRole, Exception exception);

    [LoggerMessage(EventId = 100, EventName = "Decision", Level = LogLevel.Information,
        Message = "AiRbac decision: {subject} {action} {resource}: allowed={allowed} reason={reason} role={role} rule={rule} policy={policy_version}")]
#pragma warning disable CA1707, IDE1006 // Reason: the parameter names are the structured property names of the audit record (snake_case, as in the JSON Lines log).
    public static partial void Decision(ILogger logger, string subject, string action, string resource, bool allowed, string reason, string? role, string? rule, string policy_version);
#pragma warning restore CA1707, IDE1006

    [LoggerMessage(EventId = 101, EventName = "Retrieval", Level = LogLevel.Information,
        Message = "AiRbac retrieval: {subject} {action} {store}: candidates={candidates} removed={removed} returned={returned} failed={failed} approximations={approximations} policy={policy_version} filter={filter}")]
#pragma warning disable CA1707, IDE1006 // Reason: as for Decision, the names of the JSON Lines fields.
    public static partial void Retrieval(ILogger logger, string subject, string action, string? store, int candidates, int removed, int returned, bool failed, StoreFilterApproximations approximations, string policy_version, string filter);
#pragma warning restore CA1707, IDE1006

    /// <summary>Logs one event per diagnostic: errors at Error, warnings at Warning.</summary>
    public static void Diagnostics(ILogger logger, IReadOnlyList<PolicyDiagnostic> diagnostics)
    {
        foreach (var d in diagnostics)
        {
            var level = d.IsError ? LogLevel.Error : LogLevel.Warning;
            PolicyDiagnostic(logger, level, d.Location.Source, d.Location.Line, d.Location.Column, d.IsError ? "error" : "warning", d.Code, d.Message);
        }
    }

    /// <summary>The first error of a failed load, or its exception's message, as one line.</summary>
    public static string FirstError(PolicyReloadResult result)
        => result.Diagnostics.FirstOrDefault(d => d.IsError)?.ToString()
            ?? result.Diagnostics.FirstOrDefault()?.ToString()
            ?? result.Exception?.Message
            ?? "(none given)";
}
