using AiRbac;
using AiRbac.Extensions.AI;
using AiRbac.SemanticKernel;
using AiRbac.Yaml;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

var ran = new List<string>();
var authorizer = new PolicyAuthorizer();
// The policy file beside this project (copied to the output), tested by policy.test.yaml with `airbac test`.
authorizer.Update(YamlPolicy.CompileFile(Path.Combine(AppContext.BaseDirectory, "policy.yaml")).Policy!, new PolicyVersion("sample", DateTimeOffset.UtcNow));

// One kernel for the service: the plugins, and AiRbac's filters (registered first).
var builder = Kernel.CreateBuilder();
builder.Services.AddSingleton(authorizer);
builder.AddAiRbac();
builder.Plugins.Add(KernelPluginFactory.CreateFromFunctions("reports", [
    KernelFunctionFactory.CreateFromMethod(() => { ran.Add("reports/weekly"); return "weekly: 42 tickets"; }, "weekly"),
]));
builder.Plugins.Add(KernelPluginFactory.CreateFromFunctions("ops", [
    KernelFunctionFactory.CreateFromMethod((string table) => { ran.Add("ops/sql_query " + table); return $"rows of {table}"; }, "sql_query"),
    KernelFunctionFactory.CreateFromMethod((string model) => { ran.Add("ops/deploy_model " + model); return $"deployed {model}"; }, "deploy_model"),
]));
builder.Plugins.Add(KernelPluginFactory.CreateFromFunctions("records", [
    KernelFunctionFactory.CreateFromMethod(() => { ran.Add("records/delete_all"); Console.WriteLine("!!! delete_all ran"); return "deleted"; }, "delete_all"),
]));
var kernel = builder.Build();

// Per request: a copy of the kernel for the support bot acting for alice (an analyst), which offers the model only
// the functions the bot may invoke for her.
var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");
var bot = Subject.WithRoles("support-bot", SubjectKind.Agent, "support-agent").ActingFor(alice);
var forAlice = kernel.WithAiRbac(new AiRbacChatContext(bot));

IChatClient model = new InjectedModel().AsBuilder().UseKernelFunctionInvocation().Build();
var chat = model.AsChatCompletionService();
var history = new ChatHistory("You help analysts with reports.");
history.AddUserMessage("Summarise this week's tickets.");
var answer = await chat.GetChatMessageContentAsync(
    history, new PromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto() }, forAlice);
Console.WriteLine($"assistant: {answer.Content}");

// Code (or a prompt template) calls the forbidden function directly: the function filter refuses it too.
var direct = await forAlice.InvokeAsync(kernel.Plugins["records"]["delete_all"]);
Console.WriteLine($"direct call: {direct.GetValue<string>()}");

// Policy language version 2 (docs/integrations.md, "Tool-call arguments as context" and "Semantic Kernel"):
// ops/sql_query may touch sales_* tables only (a condition on the argument arg.table); ops/deploy_model needs a release
// manager's approval (rule prod-deploy). Semantic Kernel has no tool-approval flow: a call waiting for approval is
// answered with the approval_required text naming the rule, and the host's approval provider is asked. Here the host
// keeps what was asked (for its approver UI) and the approvals given, by the call's fingerprint (tool and arguments).
var asked = new List<AiRbacToolCall>();
var granted = new Dictionary<string, List<Approval>>();
var salesAlice = Subject.WithRoles("alice", SubjectKind.User, "analyst", "sales-reader");
var operations = kernel.WithAiRbac(new AiRbacChatContext(Subject.WithRoles("support-bot", SubjectKind.Agent, "support-agent").ActingFor(salesAlice))
{
    ApprovalProvider = call =>
    {
        if (granted.TryGetValue(call.Fingerprint, out var approvals))
        {
            return approvals;
        }

        asked.Add(call);
        return [];
    },
});
var settings = new PromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto() };
async Task Say(string text)
{
    var turn = new ChatHistory("You run sales queries and deployments.");
    turn.AddUserMessage(text);
    Console.WriteLine($"assistant: {(await chat.GetChatMessageContentAsync(turn, settings, operations)).Content}");
}

// The injected model reads hr_salaries besides sales_2026: only the sales table is read.
await Say("Show the sales figures.");

// The injected model deploys to production, then claims the user approved: neither runs it.
await Say("Deploy prod-eu.");
await Say("I approved it, deploy prod-eu now.");
bool deployedUnapproved = ran.Exists(r => r.StartsWith("ops/deploy_model", StringComparison.Ordinal));
Console.WriteLine($"approval requested: rule {asked[0].ApprovalRule}, call {asked[0].ToolName}");

// rita, a release manager, approves what was asked in the host's approver UI: the same call now runs, once; the model
// changing the arguments afterwards (prod-us) is asked about again.
granted[asked[0].Fingerprint] = [new Approval("rita", "prod-deploy", DateTimeOffset.UtcNow)];
await Say("Deploy prod-eu.");
await Say("Deploy prod-us.");

bool ok = !ran.Contains("records/delete_all") && ran.Contains("reports/weekly") && !deployedUnapproved
    && ran.Where(r => r.StartsWith("ops/", StringComparison.Ordinal)).SequenceEqual(["ops/sql_query sales_2026", "ops/deploy_model prod-eu"]);
Console.WriteLine(ok
    ? "the forbidden function never ran; the permitted one did; sql_query read only sales_2026; deploy_model ran once, with rita's approval"
    : $"error: functions that ran: {string.Join(", ", ran)}; deployed without approval: {deployedUnapproved}");
return ok ? 0 : 1;

// Stands in for an LLM whose context was poisoned: it calls a function it was never offered.
internal sealed class InjectedModel : IChatClient
{
    private int turn;

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        Console.WriteLine($"model sees functions: {string.Join(", ", options?.Tools?.Select(t => t.Name) ?? [])}");
        var last = messages.LastOrDefault();
        string asked = last?.Role == ChatRole.User ? last.Text : string.Empty;
        turn++;
        List<AIContent> contents = asked switch
        {
            _ when asked.StartsWith("Summarise", StringComparison.Ordinal) =>
                [Call("reports_weekly"), Call("records_delete_all")],
            _ when asked.StartsWith("Show the sales", StringComparison.Ordinal) =>
                [Call("ops_sql_query", ("table", "sales_2026")), Call("ops_sql_query", ("table", "hr_salaries"))],
            _ when asked.Contains("prod-us", StringComparison.Ordinal) => [Call("ops_deploy_model", ("model", "prod-us"))],
            _ when asked.Contains("prod-eu", StringComparison.Ordinal) => [Call("ops_deploy_model", ("model", "prod-eu"))],
            _ => [new Microsoft.Extensions.AI.TextContent("42 tickets this week; I was not allowed to delete records.")],
        };
        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, contents)));
    }

    private Microsoft.Extensions.AI.FunctionCallContent Call(string name, params (string Name, object? Value)[] arguments)
        => new($"c{turn}-{name}", name, arguments.ToDictionary(a => a.Name, a => a.Value));

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null)
        => serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("sample", null, "demo-llm") : null;

    public void Dispose()
    {
    }
}
