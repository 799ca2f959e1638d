using System.Text;
using AiRbac.Cli;

// Standard output is written through one large buffer and flushed at the end: `check` can write a million lines.
var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
using var stdout = new StreamWriter(Console.OpenStandardOutput(), utf8, 1 << 16) { AutoFlush = false };
using var stdin = new StreamReader(Console.OpenStandardInput(), utf8, detectEncodingFromByteOrderMarks: true, 1 << 16);
int status = AirbacCli.Run(args, stdin, stdout, Console.Error);
stdout.Flush();
return status;
