"""The Streamlit side panel and supervisor pages (the only code, with app.py, that imports
streamlit). Logic lives in the engine, the feedback store and `render`."""
