using SegServe.Api.Apis;
using SegServe.Api.Hosting;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.AddSegServe();

WebApplication app = builder.Build();
app.UseSegServe();
app.MapModelsApi();
app.MapSegmentationApi();
app.MapEvaluateApi();
app.MapEvaluationRunsApi();
app.MapHealthApi();
app.Run();
