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

bool ok = !ran.Contains("records/delete_all") && ran.Contains("reports/weekly");
Console.WriteLine(ok ? "the forbidden function never ran; the permitted one did" : $"error: functions that ran: {string.Join(", ", ran)}");
return ok ? 0 : 1;

// Stands in for an LLM whose context was poisoned: it calls a function it was never offered.
internal sealed class InjectedModel : IChatClient
{
    private int turn;

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        Console.WriteLine($"model sees functions: {string.Join(", ", options?.Tools?.Select(t => t.Name) ?? [])}");
        return Task.FromResult(turn++ switch
        {
            0 => new ChatResponse(new ChatMessage(ChatRole.Assistant,
                [new Microsoft.Extensions.AI.FunctionCallContent("c1", "reports_weekly"), new Microsoft.Extensions.AI.FunctionCallContent("c2", "records_delete_all")])),
            _ => new ChatResponse(new ChatMessage(ChatRole.Assistant, "42 tickets this week; I was not allowed to delete records.")),
        });
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null)
        => serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("sample", null, "demo-llm") : null;

    public void Dispose()
    {
    }
}
