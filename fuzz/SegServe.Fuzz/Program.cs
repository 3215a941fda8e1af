using SegServe.Fuzz;
using SharpFuzz;

// fuzz/run.sh runs this under afl-fuzz: `SegServe.Fuzz TARGET` reads each input from AFL (stdin); `seed DIR` writes
// the generated part of the seed corpus; `replay TARGET FILE…` runs files once, outside AFL.
if (args.Length >= 2 && args[0] == "seed")
{
    Seeds.Write(args[1]);
    return 0;
}

if (args.Length >= 2 && args[0] == "replay")
{
    Action<ReadOnlyMemory<byte>> replay = Targets.For(args[1]);
    int crashes = 0;
    foreach (string file in args.Skip(2))
    {
        try
        {
            replay(File.ReadAllBytes(file));
            Console.WriteLine($"ok    {file}");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            crashes++;
            Console.WriteLine($"CRASH {file}: {ex.GetType().FullName}: {ex.Message}{Environment.NewLine}{ex.StackTrace}");
        }
    }

    return crashes == 0 ? 0 : 1;
}

if (args.Length != 1)
{
    Console.Error.WriteLine("usage: SegServe.Fuzz decode|coco|zip  |  seed DIR  |  replay TARGET FILE…");
    return 2;
}

Action<ReadOnlyMemory<byte>> target = Targets.For(args[0]);
Fuzzer.OutOfProcess.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    target(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
});
return 0;
