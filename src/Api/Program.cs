using SegServe.Api.Endpoints;
using SegServe.Api.Extensions;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.AddSegServe();

WebApplication app = builder.Build();
app.UseSegServe();
app.MapModelsApi();
app.MapSegmentationApi();
app.MapEvaluationApi();
app.MapHealthApi();
app.Run();
